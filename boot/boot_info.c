/* Helpers shared by every boot protocol parser: region lists and the command line. */
#include <kernel/boot_info.h>
#include <kernel/printk.h>
#include <lib/errno.h>
#include <lib/string.h>

struct boot_info boot_info;

int boot_add_region(struct mem_region *list, unsigned int *nr, phys_addr_t base, u64 size)
{
	unsigned int i;

	if (size == 0)
		return 0;
	if (*nr >= BOOT_MAX_REGIONS)
		return -ERANGE;
	/* Keep the list sorted by base: insertion sort, the lists are tiny. */
	for (i = *nr; i > 0 && list[i - 1].base > base; i--)
		list[i] = list[i - 1];
	list[i].base = base;
	list[i].size = size;
	(*nr)++;
	return 0;
}

void boot_add_region_or_warn(const char *who, struct mem_region *list, unsigned int *nr,
			     phys_addr_t base, u64 size, const char *what)
{
	if (boot_add_region(list, nr, base, size))
		printk("%s: too many %s regions, dropped %#llx+%#llx\n", who, what,
		       (unsigned long long)base, (unsigned long long)size);
}

void boot_add_cpu(struct boot_info *bi, u64 hwid)
{
	if (bi->nr_cpus < BOOT_MAX_CPUS)
		bi->cpus[bi->nr_cpus++] = hwid;
	else
		bi->nr_cpus_ignored++;
}

/* Finds word at a word boundary; returns a pointer just past it, or NULL. */
static const char *find_word(const char *s, const char *word)
{
	size_t len = strlen(word);

	while (*s) {
		while (*s == ' ')
			s++;
		if (strncmp(s, word, len) == 0 &&
		    (s[len] == '\0' || s[len] == ' ' || s[len] == '='))
			return s + len;
		while (*s && *s != ' ')
			s++;
	}
	return NULL;
}

bool cmdline_has(const struct boot_info *bi, const char *word)
{
	return find_word(bi->cmdline, word) != NULL;
}

bool cmdline_get(const struct boot_info *bi, const char *key, char *val, size_t size)
{
	const char *p = find_word(bi->cmdline, key);
	size_t n = 0;

	if (!p || *p != '=' || size == 0)
		return false;
	p++;
	while (p[n] && p[n] != ' ' && n + 1 < size) {
		val[n] = p[n];
		n++;
	}
	val[n] = '\0';
	return true;
}
