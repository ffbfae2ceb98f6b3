-- The fleet's central store (docs/fleet.md): every hall ships its ledger here. Each hall's own
-- SQLite ledger stays its source of truth; these rows are copies, re-verified by
-- `proctor fleet verify` (chain hashes recomputed from `body`/`json`, signed checkpoints checked
-- against the registered key). Idempotent on (hall_id, seq): a batch shipped twice adds nothing.

-- One row per hall, written when it registers and refreshed at every contact.
CREATE TABLE halls (
    hall_id        text PRIMARY KEY,
    -- The hall key's public half as `GET /v1/hall/key` / `proctor hall key` print it:
    -- `public_key` the raw Ed25519 key (base64), `verifier_key` the signed-note verifier key.
    public_key     text NOT NULL,
    key_name       text NOT NULL DEFAULT '',
    verifier_key   text NOT NULL DEFAULT '',
    name           text NOT NULL,               -- hostname
    registered_at  timestamptz NOT NULL DEFAULT now(),
    last_contact   timestamptz,
    backlog        bigint NOT NULL DEFAULT 0,   -- records (all streams) unshipped at last contact
    backlog_detail jsonb NOT NULL DEFAULT '{}', -- per stream: decisions, linked, events, alerts, checkpoints
    genesis        bytea,                       -- the decision chain's genesis (prev_hash of seq 1)
    version        text NOT NULL DEFAULT ''     -- the hall's Proctor version
);

-- The decisions, partitioned by month of their timestamp (fleet_ensure_month below creates a
-- month's partition before the first row of that month is shipped; retention drops whole
-- months with fleet_drop_months_before).
CREATE TABLE decisions (
    hall_id         text NOT NULL,
    seq             bigint NOT NULL,
    ts              timestamptz NOT NULL,
    decision_id     text NOT NULL,
    correlation_id  text NOT NULL,
    tenant_id       text NOT NULL,
    capability_id   text NOT NULL,
    matched_rule_id text NOT NULL,
    worker          text,
    env             text NOT NULL,
    data_label      text NOT NULL,
    qos_class       text NOT NULL,
    denied          boolean NOT NULL,
    deny_code       text,
    deny_message    text,
    dry_run         boolean NOT NULL,
    artifact_hash   text,
    prev_hash       bytea NOT NULL,
    hash            bytea NOT NULL,
    -- The decision's exact chained JSON: text, never jsonb (which reorders keys and would
    -- break sha256(prev_hash ‖ body)).
    body            text NOT NULL,
    shipped_at      timestamptz NOT NULL DEFAULT now(),
    -- The partition key must be in the key; a seq's ts never changes, so (hall_id, seq) stays
    -- unique in practice and ON CONFLICT on this key makes reshipping a no-op.
    PRIMARY KEY (hall_id, seq, ts)
) PARTITION BY RANGE (ts);

-- The local ledger's filters, newest first (the fleet view pages by ts DESC).
CREATE INDEX decisions_ts ON decisions (ts DESC);
CREATE INDEX decisions_hall_seq ON decisions (hall_id, seq);
CREATE INDEX decisions_tenant ON decisions (tenant_id, ts DESC);
CREATE INDEX decisions_capability ON decisions (capability_id, ts DESC);
CREATE INDEX decisions_correlation ON decisions (correlation_id);
CREATE INDEX decisions_decision_id ON decisions (decision_id);
CREATE INDEX decisions_denied ON decisions (deny_code, ts DESC) WHERE denied;
CREATE INDEX decisions_worker ON decisions (worker, ts DESC);
CREATE INDEX decisions_rule ON decisions (matched_rule_id, ts DESC);

-- The linked records (MCP call outcomes, approval verdicts): each hall's second chain
-- (crates/ledger/src/linked.rs). Not partitioned: far fewer rows.
CREATE TABLE linked_records (
    hall_id        text NOT NULL,
    seq            bigint NOT NULL,
    ts             timestamptz NOT NULL,
    kind           text NOT NULL,
    decision_id    text NOT NULL,
    decision_seq   bigint NOT NULL,
    correlation_id text NOT NULL,
    server         text,
    tool           text,
    prev_hash      bytea NOT NULL,
    hash           bytea NOT NULL,
    json           text NOT NULL,               -- the chained JSON, exactly what was hashed
    shipped_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, seq)
);
CREATE INDEX linked_records_ts ON linked_records (ts DESC);
CREATE INDEX linked_records_correlation ON linked_records (correlation_id);
CREATE INDEX linked_records_decision ON linked_records (decision_id);

-- Operational context, not evidence (not chained): hall events and alerts, keyed by the
-- hall's own ids.
CREATE TABLE hall_events (
    hall_id        text NOT NULL,
    id             bigint NOT NULL,
    ts             timestamptz NOT NULL,
    kind           text NOT NULL,
    worker_id      text,
    correlation_id text,
    details        jsonb NOT NULL,
    shipped_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, id)
);
CREATE INDEX hall_events_ts ON hall_events (ts DESC);
CREATE INDEX hall_events_correlation ON hall_events (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX hall_events_worker ON hall_events (worker_id, ts DESC) WHERE worker_id IS NOT NULL;

CREATE TABLE alerts (
    hall_id         text NOT NULL,
    id              bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    severity        text NOT NULL,              -- info, warning, critical
    code            text NOT NULL,
    message         text NOT NULL,
    worker_id       text,
    correlation_id  text,
    acknowledged_at timestamptz,
    details         jsonb NOT NULL,
    shipped_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, id)
);
CREATE INDEX alerts_created ON alerts (created_at DESC);

-- The hall's signed checkpoints (crates/hall/src/anchor/): one row per size shipped.
CREATE TABLE checkpoints (
    hall_id     text NOT NULL,
    size        bigint NOT NULL,
    head_hash   bytea NOT NULL,
    note        text NOT NULL,                  -- the C2SP signed note exactly as written
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, size)
);

-- The local ledger's retention checkpoints (its `checkpoints` and `linked_checkpoints`
-- tables), so a chain whose oldest records were pruned locally before shipping still verifies
-- from its newest checkpoint. `chain` is 'decisions' or 'linked'.
CREATE TABLE retention_checkpoints (
    hall_id      text NOT NULL,
    chain        text NOT NULL CHECK (chain IN ('decisions', 'linked')),
    id           bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    cutoff_ts    timestamptz,
    through_seq  bigint NOT NULL,
    through_hash bytea NOT NULL,
    pruned_total bigint NOT NULL,
    hash         bytea NOT NULL,
    PRIMARY KEY (hall_id, chain, id)
);

-- Decision seqs removed centrally by retention (fleet_drop_months_before), as ranges with the
-- hash of their last record, so verify accepts the gap and checks the next record's link.
CREATE TABLE central_prunes (
    hall_id      text NOT NULL,
    from_seq     bigint NOT NULL,
    through_seq  bigint NOT NULL,
    through_hash bytea NOT NULL,
    partition    text NOT NULL,
    pruned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, from_seq)
);

-- The month partition of `decisions` holding `at`, created when missing. Halls ship
-- concurrently: the advisory lock makes the check and the CREATE one step.
CREATE FUNCTION fleet_ensure_month(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    start timestamptz := date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name  text := 'decisions_' || to_char(start AT TIME ZONE 'UTC', 'YYYY"m"MM');
BEGIN
    IF to_regclass(name) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('fleet_ensure_month'));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF decisions FOR VALUES FROM (%L) TO (%L)',
                name, start, start + interval '1 month');
        END IF;
    END IF;
    RETURN name;
END $$;

-- Retention: drops every month partition that ends at or before `cutoff`, first recording
-- per hall the ranges of seqs it held (with their last hash) in central_prunes, in one
-- transaction. Returns the partitions dropped.
CREATE FUNCTION fleet_drop_months_before(cutoff timestamptz) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('fleet_ensure_month'));
    FOR part IN
        SELECT c.relname AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'decisions'::regclass
    LOOP
        CONTINUE WHEN part.upper > cutoff;
        EXECUTE format(
            'INSERT INTO central_prunes (hall_id, from_seq, through_seq, through_hash, partition)
             SELECT hall_id, min(seq), max(seq),
                    (array_agg(hash ORDER BY seq DESC))[1], %L
             FROM (SELECT hall_id, seq, hash, seq - row_number() OVER (PARTITION BY hall_id ORDER BY seq) AS run
                   FROM %I) runs
             GROUP BY hall_id, run
             ON CONFLICT DO NOTHING', part.name, part.name);
        EXECUTE format('DROP TABLE %I', part.name);
        RETURN NEXT part.name;
    END LOOP;
END $$;
