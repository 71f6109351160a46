#include "h.h"
int main(void){ setvbuf(stdout, NULL, _IONBF, 0);
	system("rm -rf /tmp/review-lib/rot16 /tmp/review-lib/rot16b; mkdir -p /tmp/review-lib/rot16b");
	ags_store *s = openfresh("/tmp/review-lib/t16.db");
	char *p = NULL;
	T(ags_collection_create(s, "c"));
	T(ags_backup_rotate(s, &p, "/tmp/review-lib/rot16", 2)); printf("  p=%s\n", p ? p : "(null)"); free(p); p = NULL;
	T(ags_backup_rotate(s, &p, "/tmp/review-lib/rot16b", 2)); printf("  p=%s\n", p ? p : "(null)"); free(p); p = NULL;
	T(ags_backup_rotate(s, &p, "/tmp/review-lib/rot16", 2)); printf("  p=%s\n", p ? p : "(null)"); free(p); p = NULL;
	T(ags_backup_rotate(s, &p, "/tmp/review-lib/t16.db", 2)); printf("  p=%s\n", p ? p : "(null)"); free(p); p = NULL;
	T(ags_backup_rotate(s, &p, "", 2)); printf("  p=%s\n", p ? p : "(null)"); free(p); p = NULL;
	system("ls -la /tmp/review-lib/rot16 /tmp/review-lib/rot16b");
	ags_store_close(s);
}
