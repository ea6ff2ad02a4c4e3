/*
 * The program loader: an embedded static ELF64 file (user/, built for this arch) becomes an
 * address space. Each PT_LOAD segment becomes a VMA with the segment's protection, and its
 * pages are filled now (the file lies in the kernel image, nothing to read lazily); the
 * stack is a demand-zero VMA. Writable and executable at once is refused (W^X).
 */
#include <kernel/arch.h>
#include <kernel/process.h>
#include <kernel/uapi.h>
#include <kernel/user_programs.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/user.h>
#include <asm/elf.h>

/* The ELF64 file header and program header fields we use (System V gABI). */
struct elf64_ehdr {
	u8 ident[16]; /* "\x7f" "ELF", class 2 (64-bit), data 1 (little endian), ... */
	u16 type;     /* 2: an executable */
	u16 machine;  /* 62: x86-64, 183: AArch64 */
	u32 version;
	u64 entry;
	u64 phoff;
	u64 shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	u32 type;  /* 1: PT_LOAD */
	u32 flags; /* PF_X 1, PF_W 2, PF_R 4 */
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PF_X	1
#define PF_W	2
#define PF_R	4

const struct user_program *find_user_program(const char *name)
{
	for (unsigned int i = 0; i < nr_user_programs; i++)
		if (!strcmp(user_programs[i].name, name))
			return &user_programs[i];
	return NULL;
}

/* One PT_LOAD: its VMA, then every page filled from the file (zero beyond filesz). */
static int load_segment(struct mm_struct *mm, const struct user_program *p,
			const struct elf64_phdr *ph)
{
	unsigned int prot = (ph->flags & PF_R ? PROT_READ : 0) |
			    (ph->flags & PF_W ? PROT_WRITE : 0) |
			    (ph->flags & PF_X ? PROT_EXEC : 0);
	unsigned long start = ALIGN_DOWN(ph->vaddr, PAGE_SIZE);
	unsigned long end = ALIGN_UP(ph->vaddr + ph->memsz, PAGE_SIZE);
	long ret;

	if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
		return -ENOEXEC;
	if (ph->filesz > ph->memsz || ph->offset > p->size || ph->filesz > p->size - ph->offset ||
	    ph->vaddr < USER_MIN || ph->memsz > USER_MMAP_BASE || end > USER_MMAP_BASE ||
	    (ph->vaddr - ph->offset) % PAGE_SIZE)
		return -ENOEXEC;
	ret = do_mmap(mm, start, end - start, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	if (ret < 0)
		return (int)ret;
	for (unsigned long va = start; va < end; va += PAGE_SIZE) {
		u8 *page = mm_populate_page(mm, va, prot);
		/* The file bytes that land in [va, va + PAGE_SIZE). */
		unsigned long lo = MAX(va, ph->vaddr),
			      hi = MIN(va + PAGE_SIZE, ph->vaddr + ph->filesz);

		if (!page)
			return -ENOMEM;
		if (lo < hi)
			memcpy(page + (lo - va), p->elf + ph->offset + (lo - ph->vaddr), hi - lo);
		/* Code written through the linear map is fetched through the user mapping. */
		if (prot & PROT_EXEC)
			arch_sync_icache(page, PAGE_SIZE);
	}
	return 0;
}

int load_user_program(struct mm_struct *mm, const struct user_program *p, unsigned long *entry)
{
	const struct elf64_ehdr *eh = (const void *)p->elf;
	long ret;

	if (p->size < sizeof(*eh) ||
	    memcmp(eh->ident,
		   "\x7f"
		   "ELF\x02\x01",
		   6) ||
	    eh->type != 2 || eh->machine != ELF_MACHINE ||
	    eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > p->size ||
	    eh->phnum > (p->size - eh->phoff) / sizeof(struct elf64_phdr))
		return -ENOEXEC;
	for (unsigned int i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = (const void *)(p->elf + eh->phoff + i * sizeof(*ph));
		int err;

		if (ph->type != PT_LOAD || ph->memsz == 0)
			continue;
		err = load_segment(mm, p, ph);
		if (err)
			return err;
	}
	ret =
	    do_mmap(mm, USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE, USER_STACK_PAGES * PAGE_SIZE,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	if (ret < 0)
		return (int)ret;
	mm_publish(mm);
	*entry = eh->entry;
	return 0;
}
