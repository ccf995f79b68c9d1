#!/usr/bin/env bash
# tryton-up.sh: start a local Tryton 6.0 server (Debian's packages) for the
# tests of internal/connector/tryton, and print the shell exports they read.
#
#   eval "$(scripts/tryton-up.sh)"
#
# Idempotent: a second run while trytond answers only prints the exports.
# A cold run installs the packages if missing (about 30 s), creates an SQLite
# database, activates the modules (stock_package_shipping and its
# dependencies), creates the master data (company, currency, countries,
# package type, admin user's company) and starts trytond on 127.0.0.1.
#
# Settings (environment):
#   TRYTON_STATE_DIR  state directory (default /tmp/crossdock-tryton)
#   TRYTON_PORT       listening port (default 8000)
#   TRYTON_DB         database name (default crossdock)
#   TRYTON_PASSWORD   admin password (default crossdock-admin; a local test
#                     server, never a production one)
#
# Everything but the export lines goes to stderr.
set -euo pipefail

STATE_DIR=${TRYTON_STATE_DIR:-/tmp/crossdock-tryton}
PORT=${TRYTON_PORT:-8000}
DB=${TRYTON_DB:-crossdock}
PASSWORD=${TRYTON_PASSWORD:-crossdock-admin}
URL="http://127.0.0.1:${PORT}"
CONF="$STATE_DIR/trytond.conf"
MODULES=(stock stock_package stock_package_shipping)
PACKAGES=(tryton-server tryton-modules-stock tryton-modules-sale tryton-modules-stock-lot
  tryton-modules-stock-package-shipping tryton-proteus curl)

log() { echo "tryton-up: $*" >&2; }

exports() {
  cat <<EOF
export CROSSDOCK_TEST_TRYTON_URL=$URL
export CROSSDOCK_TEST_TRYTON_DB=$DB
export CROSSDOCK_TEST_TRYTON_USER=admin
export CROSSDOCK_TEST_TRYTON_PASSWORD=$PASSWORD
EOF
}

# answers: trytond is up on PORT and the database is ready (login works).
answers() {
  curl -fsS -m 5 -H 'Content-Type: application/json' \
    -d "{\"id\":1,\"method\":\"common.db.login\",\"params\":[\"admin\",{\"password\":\"$PASSWORD\"},\"en\"]}" \
    "$URL/$DB/" 2>/dev/null | grep -q '"result": *\['
}

if [ -f "$STATE_DIR/ready" ] && answers; then
  log "trytond already up at $URL (database $DB)"
  exports
  exit 0
fi

start=$(date +%s)

# 1. Debian's packages.
if ! command -v trytond >/dev/null || ! command -v trytond-admin >/dev/null || ! command -v curl >/dev/null ||
  [ ! -d /usr/lib/python3/dist-packages/trytond/modules/stock_package_shipping ] ||
  ! /usr/bin/python3 -c 'import proteus' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  log "installing ${PACKAGES[*]}"
  if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
  fi
fi

mkdir -p "$STATE_DIR/db" "$STATE_DIR/files"
cat >"$CONF" <<EOF
[database]
uri = sqlite://
path = $STATE_DIR/db

[web]
listen = 127.0.0.1:$PORT

[session]
timeout = 86400
EOF

# 2. The database (an unfinished one from an interrupted run is rebuilt).
if [ ! -f "$STATE_DIR/ready" ]; then
  if [ -f "$STATE_DIR/trytond.pid" ]; then
    kill "$(cat "$STATE_DIR/trytond.pid")" 2>/dev/null || true
    rm -f "$STATE_DIR/trytond.pid"
  fi
  rm -f "$STATE_DIR/db/$DB.sqlite"
  touch "$STATE_DIR/db/$DB.sqlite"
  passfile=$(mktemp)
  trap 'rm -f "$passfile"' EXIT
  printf '%s\n' "$PASSWORD" >"$passfile"
  log "creating database $DB"
  TRYTONPASSFILE=$passfile trytond-admin -c "$CONF" -d "$DB" --all --email admin@crossdock.invalid >&2 2>"$STATE_DIR/admin.log" ||
    { cat "$STATE_DIR/admin.log" >&2; exit 1; }
  log "activating ${MODULES[*]}"
  trytond-admin -c "$CONF" -d "$DB" -u "${MODULES[@]}" --activate-dependencies 2>>"$STATE_DIR/admin.log" >&2 ||
    { cat "$STATE_DIR/admin.log" >&2; exit 1; }

  log "creating master data"
  TRYTON_CONF=$CONF TRYTON_DB=$DB /usr/bin/python3 - <<'PY' >&2
import os
from decimal import Decimal
from proteus import config, Model

config.set_trytond(os.environ["TRYTON_DB"], config_file=os.environ["TRYTON_CONF"])

Currency = Model.get("currency.currency")
currencies = Currency.find([("code", "=", "EUR")])
if currencies:
    eur = currencies[0]
else:
    eur = Currency(name="Euro", code="EUR", symbol="€", rounding=Decimal("0.01"), digits=2)
    eur.save()

Country = Model.get("country.country")
for code, name in [("FR", "France"), ("US", "United States"), ("DE", "Germany"),
                   ("GB", "United Kingdom"), ("ES", "Spain"), ("IT", "Italy"),
                   ("BE", "Belgium"), ("NL", "Netherlands"), ("CA", "Canada")]:
    if not Country.find([("code", "=", code)]):
        Country(name=name, code=code).save()

Party = Model.get("party.party")
Company = Model.get("company.company")
if not Company.find([]):
    party = Party(name="Crossdock Test Warehouse")
    party.save()
    company = Company(party=party, currency=eur)
    company.save()
company = Company.find([])[0]

User = Model.get("res.user")
admin = User.find([("login", "=", "admin")])[0]
if company not in admin.companies:
    admin.companies.append(company)
admin.company = company
admin.save()

# Packages need a type; crossdock's connector and tests use "Box".
PackageType = Model.get("stock.package.type")
if not PackageType.find([("name", "=", "Box")]):
    PackageType(name="Box").save()

Location = Model.get("stock.location")
print("warehouses:", [w.code for w in Location.find([("type", "=", "warehouse")])])
PY
  touch "$STATE_DIR/ready"
fi

# 3. The server.
if [ -f "$STATE_DIR/trytond.pid" ] && kill -0 "$(cat "$STATE_DIR/trytond.pid")" 2>/dev/null; then
  log "trytond (pid $(cat "$STATE_DIR/trytond.pid")) is running but does not answer yet"
else
  log "starting trytond on 127.0.0.1:$PORT"
  nohup trytond -c "$CONF" >"$STATE_DIR/trytond.log" 2>&1 &
  echo $! >"$STATE_DIR/trytond.pid"
fi
for _ in $(seq 1 60); do
  if answers; then
    log "trytond up at $URL after $(($(date +%s) - start)) s"
    exports
    exit 0
  fi
  sleep 0.5
done
log "trytond did not answer on $URL; log:"
tail -n 30 "$STATE_DIR/trytond.log" >&2
exit 1
