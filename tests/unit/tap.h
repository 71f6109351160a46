/* tap.h: a minimal Test Anything Protocol emitter shared by the unit tests.
 * Each check prints one "ok N - ..." or "not ok N - ..." line; done_testing()
 * prints the plan and returns the exit status meson's TAP parser expects. */
#ifndef AGS_TAP_H
#define AGS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                 \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__,    \
		   __VA_ARGS__)
#define is_str(got, want, ...)                                                 \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static int __attribute__((format(printf, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static int __attribute__((format(printf, 5, 6)))
tap_is_int(long long got, long long want, const char *file, int line,
	   const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d: got %lld, want %lld\n", file, line,
		       got, want);
	}
	fflush(stdout);
	return pass;
}

static int __attribute__((format(printf, 5, 6)))
tap_is_str(const char *got, const char *want, const char *file, int line,
	   const char *fmt, ...)
{
	va_list ap;
	int pass = got && want && strcmp(got, want) == 0;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d:\n#     got:  '%s'\n#     want: '%s'\n",
		       file, line, got ? got : "(null)",
		       want ? want : "(null)");
	}
	fflush(stdout);
	return pass;
}

static int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
