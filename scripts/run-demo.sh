#!/usr/bin/env bash
# `make run`: migrates the embedded SQLite database, makes sure a demo
# tenant exists, prints a fresh API key for it, and starts the server.
# The demo tenant is reused, and the key printed by the previous run
# (its id kept in $ATHOS_DEMO_KEY_FILE, mode 0600) is revoked, so runs do
# not pile up active keys.
set -euo pipefail
bin=${1:-build/athos}
export ATHOS_DATABASE_URL=${ATHOS_DATABASE_URL:-sqlite:athos.db}
export ATHOS_LISTEN=${ATHOS_LISTEN:-127.0.0.1:8080}
state=${ATHOS_DEMO_KEY_FILE:-.athos-run/demo-key-id}
field() { node -e 'process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }

"$bin" migrate >/dev/null
tenant=$("$bin" tenant list | node -e '
  const t = JSON.parse(require("fs").readFileSync(0, "utf8")).tenants.find((t) => t.name === "demo");
  process.stdout.write(t ? t.tenantId : "");')
if [[ -z $tenant ]]; then
  created=$("$bin" tenant create --name demo)
  tenant=$(field "$created" tenantId)
  echo "Demo tenant $tenant created. Webhook secret (shown once): $(field "$created" webhookSecret)"
else
  # The previous run's key goes (a stale id from a deleted database is
  # simply not found), then a new one is made.
  [[ -s $state ]] && "$bin" key revoke "$(cat "$state")" >/dev/null 2>&1 || true
  created=$("$bin" key create "$tenant")
fi
key=$(field "$created" apiKey)
mkdir -p "$(dirname "$state")"
(umask 077 && field "$created" keyId >"$state")
cat <<MSG

  Demo tenant: $tenant
  API key (shown once): $key

  export ATHOS_API_KEY=$key
  curl -X POST http://$ATHOS_LISTEN/api/external/v1/session \\
    -H "Authorization: Bearer \$ATHOS_API_KEY" -H "Content-Type: application/json" \\
    -d '{"externalUserId":"rep_8842","externalAgencyId":"agency_chicago"}'

  A practice call in this terminal, once the server is up (in another shell):
  $bin practice --api-key $key --url http://$ATHOS_LISTEN

MSG
exec "$bin" serve
