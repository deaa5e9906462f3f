/* migrations.c — the schema, as an append-only list of versions. Never
 * edit a released version: add a new one. */
#include "store/migrations.h"

/* Version 1's text, with the type of the surrogate keys as a parameter:
 * SQLite's INTEGER PRIMARY KEY is the rowid; PostgreSQL needs an identity
 * (BIGSERIAL). The SQLite expansion is byte-for-byte the released text. */
#define MIGRATION_1(ID)                                                                    \
  "CREATE TABLE tenants ("                                                                 \
  "  id " ID ","                                                                           \
  "  public_id TEXT NOT NULL UNIQUE,"                                                      \
  "  name TEXT NOT NULL,"                                                                  \
  "  active INTEGER NOT NULL DEFAULT 1,"                                                   \
  "  webhook_url TEXT,"                                                                    \
  "  webhook_enabled INTEGER NOT NULL DEFAULT 1,"                                          \
  "  ip_allow TEXT,"                                                                       \
  "  monthly_call_quota BIGINT,"                                                           \
  "  created_at BIGINT NOT NULL);"                                                         \
  "CREATE TABLE api_keys ("                                                                \
  "  id " ID ","                                                                           \
  "  public_id TEXT NOT NULL UNIQUE,"                                                      \
  "  tenant_id BIGINT NOT NULL REFERENCES tenants(id),"                                    \
  "  prefix TEXT NOT NULL,"                                                                \
  "  key_hash TEXT NOT NULL UNIQUE,"                                                       \
  "  created_at BIGINT NOT NULL,"                                                          \
  "  revoked_at BIGINT);"                                                                  \
  "CREATE TABLE webhook_secrets ("                                                         \
  "  id " ID ","                                                                           \
  "  tenant_id BIGINT NOT NULL REFERENCES tenants(id),"                                    \
  "  secret TEXT NOT NULL,"                                                                \
  "  created_at BIGINT NOT NULL,"                                                          \
  "  expires_at BIGINT);"                                                                  \
  "CREATE INDEX webhook_secrets_tenant ON webhook_secrets(tenant_id, id);"                 \
  "CREATE TABLE signing_keys ("                                                            \
  "  kid TEXT PRIMARY KEY,"                                                                \
  "  secret_hex TEXT NOT NULL,"                                                            \
  "  created_at BIGINT NOT NULL);"                                                         \
  "CREATE TABLE spent_tokens ("                                                            \
  "  jti TEXT PRIMARY KEY,"                                                                \
  "  tenant_id BIGINT NOT NULL,"                                                           \
  "  expires_at BIGINT NOT NULL,"                                                          \
  "  spent_at BIGINT NOT NULL);"                                                           \
  "CREATE TABLE calls ("                                                                   \
  "  id " ID ","                                                                           \
  "  public_id TEXT NOT NULL UNIQUE,"                                                      \
  "  session_id TEXT NOT NULL UNIQUE,"                                                     \
  "  tenant_id BIGINT NOT NULL REFERENCES tenants(id),"                                    \
  "  source TEXT NOT NULL DEFAULT 'roleplay',"                                             \
  "  external_user_id TEXT NOT NULL,"                                                      \
  "  external_agency_id TEXT,"                                                             \
  "  drill_key TEXT NOT NULL,"                                                             \
  "  difficulty TEXT NOT NULL,"                                                            \
  "  persona_index INTEGER NOT NULL,"                                                      \
  "  persona_name TEXT NOT NULL,"                                                          \
  "  seed BIGINT NOT NULL,"                                                                \
  "  status TEXT NOT NULL,"                                                                \
  "  ticket_hash TEXT UNIQUE,"                                                             \
  "  ticket_expires_at BIGINT,"                                                            \
  "  ticket_used_at BIGINT,"                                                               \
  "  end_reason TEXT,"                                                                     \
  "  lease_until BIGINT,"                                                                  \
  "  score_json TEXT,"                                                                     \
  "  created_at BIGINT NOT NULL,"                                                          \
  "  started_at BIGINT,"                                                                   \
  "  ended_at BIGINT,"                                                                     \
  "  scored_at BIGINT,"                                                                    \
  "  updated_at BIGINT NOT NULL,"                                                          \
  "  duration_sec BIGINT NOT NULL DEFAULT 0);"                                             \
  "CREATE INDEX calls_history ON calls(tenant_id, status, ended_at DESC, public_id DESC);" \
  "CREATE INDEX calls_created ON calls(tenant_id, created_at);"                            \
  "CREATE INDEX calls_status ON calls(status);"                                            \
  "CREATE TABLE call_turns ("                                                              \
  "  call_id BIGINT NOT NULL REFERENCES calls(id),"                                        \
  "  idx INTEGER NOT NULL,"                                                                \
  "  role TEXT NOT NULL,"                                                                  \
  "  content TEXT NOT NULL,"                                                               \
  "  at_ms BIGINT NOT NULL,"                                                               \
  "  PRIMARY KEY (call_id, idx));"                                                         \
  "CREATE TABLE webhook_events ("                                                          \
  "  id " ID ","                                                                           \
  "  msg_id TEXT NOT NULL UNIQUE,"                                                         \
  "  tenant_id BIGINT NOT NULL REFERENCES tenants(id),"                                    \
  "  call_id BIGINT REFERENCES calls(id),"                                                 \
  "  payload TEXT NOT NULL,"                                                               \
  "  status TEXT NOT NULL,"                                                                \
  "  attempts INTEGER NOT NULL DEFAULT 0,"                                                 \
  "  next_attempt_at BIGINT,"                                                              \
  "  lease_until BIGINT,"                                                                  \
  "  created_at BIGINT NOT NULL,"                                                          \
  "  delivered_at BIGINT);"                                                                \
  "CREATE INDEX webhook_events_due ON webhook_events(status, next_attempt_at);"            \
  "CREATE INDEX webhook_events_tenant ON webhook_events(tenant_id, created_at);"           \
  "CREATE TABLE webhook_attempts ("                                                        \
  "  id " ID ","                                                                           \
  "  event_id BIGINT NOT NULL REFERENCES webhook_events(id),"                              \
  "  attempted_at BIGINT NOT NULL,"                                                        \
  "  http_status INTEGER,"                                                                 \
  "  latency_ms BIGINT,"                                                                   \
  "  error TEXT);"                                                                         \
  "CREATE INDEX webhook_attempts_event ON webhook_attempts(event_id);"

const struct migration store_migrations[] = {
    {1, "initial", MIGRATION_1("INTEGER PRIMARY KEY"), MIGRATION_1("BIGSERIAL PRIMARY KEY")},
    /* The node running a live call (PostgreSQL clusters: a starting node
     * ends only the live calls of nodes that are gone; see
     * docs/internals/store.md). SQLite has one node and leaves it NULL. */
    {2, "call_live_node", "ALTER TABLE calls ADD COLUMN live_node BIGINT;", NULL},
    /* Named counters shared by every node. auth_generation: bumped in the
     * transaction of every key revocation and tenant change; a node's
     * API-key cache holds only lookups made at the current generation
     * (docs/internals/store.md). */
    {3, "settings",
     "CREATE TABLE settings (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
     "INSERT INTO settings(name, value) VALUES ('auth_generation', 0);",
     NULL},
    /* A tenant's request rate limit (requests a second; NULL = the
     * server's ATHOS_RATE_LIMIT, 0 = none). */
    {4, "tenant_rate_limit", "ALTER TABLE tenants ADD COLUMN rate_limit BIGINT;", NULL},
    /* Voice calls (issue 10): a rep turn's place in the audio, and the
     * call's recording (path under ATHOS_MEDIA_DIR; duration and waveform
     * once the call ended; deleted_at once the retention sweep removed
     * the file). */
    {5, "voice_recordings",
     "ALTER TABLE call_turns ADD COLUMN start_ms BIGINT;"
     "ALTER TABLE call_turns ADD COLUMN end_ms BIGINT;"
     "CREATE TABLE call_recordings ("
     "  call_id BIGINT PRIMARY KEY REFERENCES calls(id),"
     "  path TEXT NOT NULL,"
     "  created_at BIGINT NOT NULL,"
     "  duration_ms BIGINT,"
     "  waveform TEXT,"
     "  deleted_at BIGINT);"
     "CREATE INDEX call_recordings_created ON call_recordings(created_at);",
     NULL},
};

const size_t store_migrations_count = sizeof store_migrations / sizeof store_migrations[0];
