#!/usr/bin/env bash
# Attributes and access: chmod, chown and touch -d on objects and
# collections persist in the store (across a remount); default_permissions
# lets the kernel enforce the modes for other users; -o ro gives EROFS on
# every kind of write.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store
X=$MNT/c/x.json

# ---- attributes persist
chmod 640 "$X"
chown 1234:5678 "$X"
touch -d '2021-02-03 04:05:06.123456789' "$X"
chmod 750 "$MNT/c"
chown 42:43 "$MNT/c"
touch -d '2022-03-04 05:06:07' "$MNT/c"
rows=$(audit_rows)
chmod 640 "$X"
is "$(audit_rows)" "$rows" "a chmod that changes nothing records nothing"
remount
is "$(stat -c '%a %u %g' "$X")" "640 1234 5678" "chmod and chown of an object persist"
is "$(stat -c %y "$X")" "2021-02-03 04:05:06.123456789 +0000" \
	"touch -d of an object persists, to the nanosecond"
is "$(stat -c '%a %u %g' "$MNT/c")" "750 42 43" "chmod and chown of a collection persist"
is "$(stat -c %y "$MNT/c")" "2022-03-04 05:06:07.000000000 +0000" \
	"touch -d of a collection persists"
is "$(version_of c x)" 1 "attribute changes keep the version"
run "$AGS" log --op setattr
is "$(count_lines "$out")" 6 "each change audited as a setattr"
is "$(echo "$out" | jq -r .comm | sort -u | tr '\n' ' ')" "chmod chown touch " \
	"by the tool that made it"

# A write keeps the mode and owner and sets the time.
echo '{"n": 2}' >"$X"
is "$(stat -c '%a %u %g' "$X")" "640 1234 5678" "a write keeps mode and owner"
ok "and sets the time" [ "$(stat -c %Y "$X")" -gt "$(date -d 2021-02-04 +%s)" ]

# ---- mkdir -m: the collection is made with its mode, in one transaction
mkdir -m 700 "$MNT/priv"
is "$(stat -c %a "$MNT/priv")" 700 "mkdir -m 700 makes a collection of mode 700"
is "$("$AGS" log --collection priv | jq -r '.op + " " + .comm' | tr '\n' ,)" \
	"mkcol mkdir,setattr mkdir," "audited as made and set by mkdir"
remount
is "$(stat -c %a "$MNT/priv")" 700 "the mode persists"
rmdir "$MNT/priv"

# ---- default_permissions: the kernel checks the modes
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	remount -o allow_other,default_permissions
	chmod o+x "$TMP"
	chown 0:0 "$X"
	chmod 600 "$X"
	echo '{"open": 1}' >"$MNT/c/open.json"
	chmod 644 "$MNT/c/open.json"
	chmod 755 "$MNT/c"
	as_nobody() {
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	}
	run as_nobody cat "$X"
	like "$err" 'Permission denied' "mode 600: another user cannot read"
	run as_nobody cat "$MNT/c/open.json"
	is "$out" '{"open": 1}' "mode 644: another user can read"
	run as_nobody sh -c "echo '{}' >'$MNT/c/open.json'"
	like "$err" 'Permission denied' "but not write"
	run as_nobody touch "$MNT/c/new.json"
	like "$err" 'Permission denied' "nor create in a 755 collection it does not own"
	is "$("$AGS" get c open)" '{"open": 1}' "nothing changed"
	chmod 700 "$TMP"
else
	pass "# SKIP default_permissions needs root and setpriv"
fi

# ---- read-only
remount -o ro
run cat "$X"
is "$rc" 0 "a read-only mount reads"
rows=$(audit_rows)
for cmd in \
	"echo '{}' >'$X'" \
	"echo '{}' >'$MNT/c/new.json'" \
	"touch '$MNT/c/new2.json'" \
	"rm '$X'" \
	"mv '$X' '$MNT/c/y.json'" \
	"mkdir '$MNT/d'" \
	"rmdir '$MNT/c'" \
	"chmod 600 '$X'" \
	"touch '$X'" \
	"truncate -s 0 '$X'" \
	"ln -s x '$MNT/c/l'"; do
	run sh -c "$cmd"
	like "$err" 'Read-only file system' "ro: $cmd fails with EROFS"
done
is "$(audit_rows)" "$rows" "ro: nothing changed"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
