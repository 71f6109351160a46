/* test-names.c: unit tests of lib/names.c: collection and id rules, and the
 * id <-> file name codec, including names that must stay temporary files. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "names-int.h"
#include "tap.h"

static void collection_ok(const char *name)
{
	is_int(name_check_collection(name), 0, "collection '%s' accepted",
	       name);
}

static void collection_bad(const char *label, const char *name)
{
	is_int(name_check_collection(name), -EINVAL, "collection %s refused",
	       label);
}

static void test_collections(void)
{
	char name[NAME_COLLECTION_MAX + 2];

	collection_ok("users");
	collection_ok("a");
	collection_ok("9");
	collection_ok("_x");
	collection_ok("A.b_c-9");
	collection_ok("a..b");
	memset(name, 'a', NAME_COLLECTION_MAX);
	name[NAME_COLLECTION_MAX] = '\0';
	is_int(name_check_collection(name), 0, "collection of 128 bytes");
	name[NAME_COLLECTION_MAX] = 'a';
	name[NAME_COLLECTION_MAX + 1] = '\0';
	is_int(name_check_collection(name), -EINVAL, "collection of 129 bytes");
	collection_bad("empty", "");
	collection_bad("'.x' (leading dot)", ".x");
	collection_bad("'.'", ".");
	collection_bad("'..'", "..");
	collection_bad("'-x' (leading dash)", "-x");
	collection_bad("'a/b'", "a/b");
	collection_bad("'a b'", "a b");
	collection_bad("'a:b'", "a:b");
	collection_bad("'a%b'", "a%b");
	collection_bad("with newline", "a\n");
	collection_bad("'\xC3\xBCsers' (unicode)", "\xC3\xBCsers");
	is_str(name_collection_rule,
	       "collection names are 1-128 bytes of letters, digits, '_', '.' and '-', not starting with '.' or '-'",
	       "collection rule text");
}

static void test_ids(void)
{
	char id[NAME_ID_MAX + 1];

	is_int(name_check_id("alice", 5), 0, "id 'alice'");
	is_int(name_check_id("\xC3\xBCn\xC3\xAF"
			     "code",
			     9),
	       0, "id with unicode");
	is_int(name_check_id(".hidden", 7), 0, "id with leading dot");
	is_int(name_check_id("a/b", 3), 0, "id with slash");
	is_int(name_check_id("tab\there", 8), 0, "id with control byte");
	memset(id, 'x', sizeof(id));
	is_int(name_check_id(id, NAME_ID_MAX), 0, "id of 200 bytes");
	is_int(name_check_id(id, NAME_ID_MAX + 1), -EINVAL, "id of 201 bytes");
	is_int(name_check_id("", 0), -EINVAL, "empty id");
	is_int(name_check_id("a\0b", 3), -EINVAL, "id with embedded NUL");
	is_int(name_check_id("\xFF", 1), -EINVAL, "id with byte FF");
	is_int(name_check_id("a\xC3", 2), -EINVAL, "id with truncated UTF-8");
	is_int(name_check_id("\xC0\xAF", 2), -EINVAL, "id with overlong UTF-8");
	is_int(name_check_id("\xED\xA0\x80", 3), -EINVAL,
	       "id with encoded surrogate");
	is_str(name_id_rule,
	       "object ids are 1-200 bytes of valid UTF-8 without NUL bytes",
	       "id rule text");
}

/* id -> file name -> id, and the file name is an object name. */
static void round_trip(const char *label, const char *id, size_t len,
		       const char *file)
{
	struct sbuf name = SBUF_INIT, back = SBUF_INIT;

	is_int(name_encode_file(&name, id, len), 0, "%s: encoded", label);
	is_str(name.buf, file, "%s: file name", label);
	ok(name_is_object_file(name.buf), "%s: is an object file", label);
	is_int(name_decode_file(&back, name.buf), 0, "%s: decoded", label);
	ok(back.len == len && !memcmp(back.buf, id, len), "%s: same id back",
	   label);
	sbuf_release(&name);
	sbuf_release(&back);
}

static void test_codec(void)
{
	char id[NAME_ID_MAX], want[3 * NAME_ID_MAX + 6];
	int i;

	round_trip("plain", "alice", 5, "alice.json");
	round_trip("leading dot", ".hidden", 7, "%2Ehidden.json");
	round_trip("inner dots", "a.b.", 4, "a.b..json");
	round_trip("dot dot", "..", 2, "%2E..json");
	round_trip("slash", "a/b", 3, "a%2Fb.json");
	round_trip("percent", "50%", 3, "50%25.json");
	round_trip("tab", "tab\there", 8, "tab%09here.json");
	round_trip("newline", "\n", 1, "%0A.json");
	round_trip("DEL", "x\x7F", 2, "x%7F.json");
	round_trip("unicode",
		   "\xC3\xBCn\xC3\xAF"
		   "code",
		   9,
		   "\xC3\xBCn\xC3\xAF"
		   "code.json");
	round_trip("looks like a file name", "x.json", 6, "x.json.json");
	round_trip("looks like an escape", "%2F", 3, "%252F.json");
	round_trip("space and quotes", "a 'b\"", 5, "a 'b\".json");
	memset(id, '/', sizeof(id));
	for (i = 0; i < NAME_ID_MAX; i++)
		memcpy(want + 3 * i, "%2F", 3);
	strcpy(want + 3 * NAME_ID_MAX, ".json");
	round_trip("200 slashes", id, NAME_ID_MAX, want);
}

static void not_object(const char *label, const char *fname)
{
	struct sbuf out = SBUF_INIT;

	sbuf_adds(&out, "keep");
	ok(!name_is_object_file(fname), "'%s' (%s) is not an object file",
	   fname, label);
	is_int(name_decode_file(&out, fname), -EINVAL, "'%s' not decoded",
	       fname);
	is_str(out.buf, "keep", "'%s': out unchanged", fname);
	sbuf_release(&out);
}

static void test_not_objects(void)
{
	char name[NAME_ID_MAX + 7];

	not_object("vim's write test", "4913");
	not_object("vim swap file", ".x.json.swp");
	not_object("backup", "x.json~");
	not_object("tool temporary", "x.json.tmp");
	not_object("sed -i temporary", "sedAb12Cd");
	not_object("fuse hidden", ".fuse_hidden0000000100000001");
	not_object("empty id", ".json");
	not_object("empty name", "");
	not_object("suffix without dot", "json");
	not_object("upper case suffix", "x.JSON");
	not_object("lowercase hex", "a%2f.json");
	not_object("needless escape", "%41.json");
	not_object("needless escape of inner dot", "a%2Eb.json");
	not_object("needless escape of UTF-8", "%C3%BC.json");
	not_object("unescaped leading dot", ".x.json");
	not_object("unescaped control byte", "a\tb.json");
	not_object("unescaped DEL", "a\x7F.json");
	not_object("escaped NUL", "%00.json");
	not_object("truncated escape", "a%2.json");
	not_object("percent at the end", "a%.json");
	not_object("not hex", "a%ZZ.json");
	not_object("invalid UTF-8", "\xFF.json");
	not_object("encoded surrogate", "\xED\xA0\x80.json");
	memset(name, 'x', NAME_ID_MAX + 1);
	strcpy(name + NAME_ID_MAX + 1, ".json");
	not_object("id of 201 bytes", name);
	strcpy(name + NAME_ID_MAX, ".json");
	ok(name_is_object_file(name), "id of 200 bytes is an object name");
}

/* Decode then encode fname; count it in *objects when it is an object name.
 * @return false when an object name does not come back as itself. */
static bool name_comes_back(const char *fname, size_t *objects)
{
	struct sbuf id = SBUF_INIT, again = SBUF_INIT;
	bool same = true;

	if (!name_decode_file(&id, fname)) {
		++*objects;
		same = !name_encode_file(&again, id.buf, id.len) &&
		       !strcmp(again.buf, fname);
	}
	sbuf_release(&id);
	sbuf_release(&again);
	return same;
}

/* Encode then decode the 2-byte id; false unless the same id comes back. */
static bool id_comes_back(const char id[2])
{
	struct sbuf name = SBUF_INIT, back = SBUF_INIT;
	bool same = !name_encode_file(&name, id, 2) &&
		    !name_decode_file(&back, name.buf) && back.len == 2 &&
		    !memcmp(back.buf, id, 2);

	sbuf_release(&name);
	sbuf_release(&back);
	return same;
}

/* Every file name over an alphabet rich in escapes, up to 4 bytes before
 * ".json": each object name must be exactly the encoding of its id, and each
 * id encodes to an object name; so the codec is a bijection. */
static void test_bijection(void)
{
	static const char alpha[] = "%.2EFa0/\x7F\xC3\xBC";
	const size_t na = sizeof(alpha) - 1;
	size_t total = 1, len, n, k, rest, objects = 0, bad = 0;
	char fname[16], id[2];

	for (len = 0; len <= 4; len++, total *= na) {
		for (n = 0; n < total; n++) {
			for (k = 0, rest = n; k < len; k++, rest /= na)
				fname[k] = alpha[rest % na];
			strcpy(fname + len, ".json");
			bad += !name_comes_back(fname, &objects);
		}
	}
	is_int(bad, 0, "decode then encode gives every name back");
	ok(objects > 1000, "the alphabet yields object names (%zu)", objects);
	for (n = 1, bad = 0; n < 0x80; n++) {
		id[0] = (char)n;
		id[1] = 'a';
		bad += !id_comes_back(id);
		id[0] = 'a';
		id[1] = (char)n;
		bad += !id_comes_back(id);
	}
	is_int(bad, 0, "every ASCII byte but NUL round-trips, first or not");
}

int main(void)
{
	test_collections();
	test_ids();
	test_codec();
	test_not_objects();
	test_bijection();
	return done_testing();
}
