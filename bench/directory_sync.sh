#!/usr/bin/env bash
# Directory-sync bench: loads ENTRIES people, each with a distinct thumbnailPhoto (a SIDE px
# PNG), a mail and two AD-style proxyAddresses, into a throwaway OpenLDAP server (slapadd
# offline, then slapd on a loopback port), and times `cameo directory sync`:
#   1. the first sync (every photo fetched, decoded, re-encoded, staged, applied);
#   2. a second sync with nothing changed (no photo decoded again);
#   3. a sync after CHANGED entries got a new photo and CHANGED others left the directory.
# Prints wall time, entries per second, peak RSS of the cameo process and the counts.
#
# Run from the crate root on Debian with slapd and ldap-utils installed:
#     bash bench/directory_sync.sh
# Environment: ENTRIES=10000 SIDE=96 CHANGED=1000 PAGE_SIZE=500 KEEP_TMP=1
#   CAMEO=PATH: use this cameo binary instead of building the release one
set -euo pipefail

ENTRIES=${ENTRIES:-10000}
SIDE=${SIDE:-96}
CHANGED=${CHANGED:-1000}
PAGE_SIZE=${PAGE_SIZE:-500}

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ -x /usr/sbin/slapd ] || die "slapd is required (apt-get install slapd ldap-utils)"
require_tools ldapmodify python3
[ -x /usr/bin/time ] || die "/usr/bin/time is required (apt-get install time)"
if [ -z "${CAMEO:-}" ]; then build_release --quiet; fi
scratch_dir directory-sync

say "writing $ENTRIES entries with ${SIDE}px photos"
mkdir -p "$TMP/db" "$TMP/data"
cat >"$TMP/ad.schema" <<'EOF'
attributetype ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'proxyAddresses'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.11.99.2 NAME 'thumbnailPhoto'
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.99.3 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.99.4 NAME 'adStyleUser' AUXILIARY
    MAY ( proxyAddresses $ thumbnailPhoto $ userAccountControl ) )
EOF
cat >"$TMP/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include $TMP/ad.schema
pidfile $TMP/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 4294967296
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw bench-secret
directory $TMP/db
access to * by * read
EOF
# entries.py MODE: the LDIF of every entry (add), or of the changes (change).
cat >"$TMP/entries.py" <<'EOF'
import base64, functools, sys
sys.path.insert(0, sys.argv[1])
import make_photo
# 9,000 distinct pictures at most (make_photo's variants); each drawn once.
png = functools.lru_cache(maxsize=None)(make_photo.png)
mode, entries, side, changed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = sys.stdout
if mode == "add":
    out.write("dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\no: Bench\ndc: example\n\n")
    out.write("dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n")
    for n in range(entries):
        photo = base64.b64encode(png(side, n % 9000)).decode()
        out.write(f"dn: uid=p{n},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n"
                  f"objectClass: adStyleUser\nuid: p{n}\ncn: Person {n}\nsn: {n}\n"
                  f"mail: p{n}@example.org\nproxyAddresses: SMTP:p{n}@example.org\n"
                  f"proxyAddresses: smtp:person.{n}@example.org\nthumbnailPhoto:: {photo}\n\n")
else:
    for n in range(changed):
        photo = base64.b64encode(png(side + 2, n % 9000)).decode()
        out.write(f"dn: uid=p{n},ou=people,dc=example,dc=org\nchangetype: modify\n"
                  f"replace: thumbnailPhoto\nthumbnailPhoto:: {photo}\n\n")
    for n in range(entries - changed, entries):
        out.write(f"dn: uid=p{n},ou=people,dc=example,dc=org\nchangetype: delete\n\n")
EOF
python3 "$TMP/entries.py" "$ROOT/bench" add "$ENTRIES" "$SIDE" "$CHANGED" >"$TMP/entries.ldif"
say "loading them with slapadd ($(du -h "$TMP/entries.ldif" | cut -f1) of LDIF)"
/usr/sbin/slapadd -q -f "$TMP/slapd.conf" -l "$TMP/entries.ldif"
LDAP_PORT=$(free_port)
/usr/sbin/slapd -d 0 -h "ldap://127.0.0.1:$LDAP_PORT/" -f "$TMP/slapd.conf" >"$TMP/slapd.log" 2>&1 &
kill_on_exit $!
for _ in $(seq 1 100); do
    ldapsearch -x -H "ldap://127.0.0.1:$LDAP_PORT" -b "" -s base >/dev/null 2>&1 && break
    sleep 0.1
done

printf 'bench-secret\n' >"$TMP/bind-password"
cat >"$TMP/cameo.toml" <<EOF
data_dir = "$TMP/data"
[directory]
url = "ldap://127.0.0.1:$LDAP_PORT"
bind_dn = "cn=admin,dc=example,dc=org"
bind_password_file = "$TMP/bind-password"
base_dn = "ou=people,dc=example,dc=org"
filter = "(objectClass=inetOrgPerson)"
page_size = $PAGE_SIZE
EOF

# timed_sync NAME: runs the sync, prints its figures.
timed_sync() {
    local name=$1 out="$TMP/$1.out"
    /usr/bin/time -f '%e %M' -o "$TMP/$name.time" \
        "$CAMEO" --config "$TMP/cameo.toml" directory sync >"$out" 2>"$TMP/$name.err" ||
        die "$name sync failed: $(tail -3 "$out") $(tail -5 "$TMP/$name.err")"
    read -r seconds peak_kb <"$TMP/$name.time"
    awk -v name="$name" -v s="$seconds" -v kb="$peak_kb" -v n="$ENTRIES" -v totals="$(tail -1 "$out")" \
        'BEGIN { printf "%-24s %7.2f s %7.0f entries/s %7.1f MB peak RSS   %s\n", name, s, n / (s > 0 ? s : 0.01), kb / 1024, totals }'
}

say "syncing (release build, $(nproc) cores)"
timed_sync "first sync"
timed_sync "nothing changed"
python3 "$TMP/entries.py" "$ROOT/bench" change "$ENTRIES" "$SIDE" "$CHANGED" |
    ldapmodify -x -H "ldap://127.0.0.1:$LDAP_PORT" -D cn=admin,dc=example,dc=org -w bench-secret >/dev/null
timed_sync "$CHANGED changed, $CHANGED gone"
printf 'database: %s\n' "$(du -h "$TMP/data/cameo.db" | cut -f1)"
