//! `GET /v1/hall/key`: the public half of the key that signs this hall's receipts and
//! checkpoints (anchor/).

use axum::extract::State;
use axum::Json;

use super::AppState;
use crate::anchor::HallPublicKey;

pub async fn hall_key(State(s): State<AppState>) -> Json<HallPublicKey> {
    Json(s.hall.hall_key().clone())
}
