//! The crate-level error: every way loading or parsing WCP material can fail. Deciding never
//! fails (a problem there is a denied decision), so there is no decision variant.

use crate::gate::GateConfigError;
use crate::input::InputError;
use crate::registry::RegistryError;
use crate::rules::RulesError;
use crate::scenario::ScenarioError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    GateConfig(#[from] GateConfigError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

impl Error {
    /// A stable code for API bodies: the WCP deny code where one exists
    /// (`DENY_INVALID_INPUT` for a rejected request), otherwise a Proctor code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Input(_) => crate::DenyCode::InvalidInput.as_str(),
            Error::Rules(_) => "INVALID_RULES",
            Error::Registry(_) => "INVALID_REGISTRY_RECORD",
            Error::GateConfig(_) => "INVALID_POLICY_GATE",
            Error::Scenario(_) => "INVALID_SCENARIO",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages_pass_through() {
        let e: Error = crate::parse_route_input(&serde_json::json!({}))
            .unwrap_err()
            .into();
        assert_eq!(e.code(), "DENY_INVALID_INPUT");
        assert!(e.to_string().starts_with("invalid RouteInput: "));
        let e: Error = "{".parse::<crate::RuleSet>().unwrap_err().into();
        assert_eq!(e.code(), "INVALID_RULES");
    }
}
