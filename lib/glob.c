/* Shell-style wildcard matching for test filters. */
#include <lib/string.h>

bool glob_match(const char *pat, const char *s)
{
	/* Iterative matcher: on a mismatch, let the last '*' swallow one more character. */
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}
