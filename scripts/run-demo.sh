#!/usr/bin/env bash
# `make run`: migrates the embedded SQLite database, makes sure a demo
# tenant exists, prints a fresh API key for it, and starts the server.
set -euo pipefail
bin=${1:-build/athos}
export ATHOS_DATABASE_URL=${ATHOS_DATABASE_URL:-sqlite:athos.db}
export ATHOS_LISTEN=${ATHOS_LISTEN:-127.0.0.1:8080}

"$bin" migrate >/dev/null
tenant=$("$bin" tenant list | node -e '
  const t = JSON.parse(require("fs").readFileSync(0, "utf8")).tenants.find((t) => t.name === "demo");
  process.stdout.write(t ? t.tenantId : "");')
if [[ -z $tenant ]]; then
  created=$("$bin" tenant create --name demo)
  key=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).apiKey)' "$created")
  whsec=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).webhookSecret)' "$created")
  tenant=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).tenantId)' "$created")
  echo "Demo tenant $tenant created. Webhook secret (shown once): $whsec"
else
  key=$("$bin" key create "$tenant" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).apiKey)')
fi
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
