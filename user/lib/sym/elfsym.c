// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfsym.h"
#include "log.h"

struct elfsym {
	char *path;
	int fd;
	Elf *elf;
	/* The whole file, mapped by libelf: Go's tables are read in place. */
	const __u8 *img;
	size_t img_size;
	GElf_Ehdr ehdr;
	GElf_Phdr *phdrs;
	size_t nphdrs;
	size_t shstrndx;
	Elf_Scn *symtab;
	Elf_Scn *dynsym;
	bool is_go;
};

/* Any of these marks a binary built by the Go toolchain. -s -w keeps all
 * three; PIE builds rename .gopclntab but keep the other two. */
static const char *const go_sections[] = {
	".go.buildinfo", ".gopclntab", ".data.rel.ro.gopclntab", ".note.go.buildid",
};

static int load_phdrs(struct elfsym *e)
{
	size_t i;

	if (elf_getphdrnum(e->elf, &e->nphdrs))
		return -ENOEXEC;
	if (!e->nphdrs)
		return 0;
	e->phdrs = calloc(e->nphdrs, sizeof(*e->phdrs));
	if (!e->phdrs)
		return -ENOMEM;
	for (i = 0; i < e->nphdrs; i++)
		if (!gelf_getphdr(e->elf, (int)i, &e->phdrs[i]))
			return -ENOEXEC;
	return 0;
}

static void scan_sections(struct elfsym *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	const char *name;
	size_t i;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && !e->symtab)
			e->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM && !e->dynsym)
			e->dynsym = scn;
		name = elf_strptr(e->elf, e->shstrndx, sh.sh_name);
		for (i = 0; name && i < sizeof(go_sections) / sizeof(go_sections[0]); i++)
			if (!strcmp(name, go_sections[i]))
				e->is_go = true;
	}
}

static int check_header(struct elfsym *e)
{
	if (elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &e->ehdr))
		return -ENOEXEC;
	/* Go's pclntab and buildinfo are read as little-endian words in place;
	 * every architecture nettune runs on (x86-64, arm64) is little-endian. */
	if (e->ehdr.e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	if (elf_getshdrstrndx(e->elf, &e->shstrndx))
		return -ENOEXEC;
	e->img = (const __u8 *)elf_rawfile(e->elf, &e->img_size);
	return e->img ? 0 : -ENOEXEC;
}

int elfsym__open(const char *path, struct elfsym **out)
{
	struct elfsym *e;
	int err;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0) {
		err = -errno;
		goto cleanup;
	}
	e->path = strdup(path);
	if (!e->path) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* READ_MMAP: a 60 MB Go binary is mapped, not copied. */
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	err = e->elf ? check_header(e) : -ENOEXEC;
	if (!err)
		err = load_phdrs(e);
	if (err) {
		debug("%s: not a usable ELF file: %s", path, elf_errmsg(-1));
		goto cleanup;
	}
	scan_sections(e);
	*out = e;
	return 0;
cleanup:
	elfsym__close(e);
	return err;
}

void elfsym__close(struct elfsym *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->phdrs);
	free(e->path);
	free(e);
}

const char *elfsym__path(const struct elfsym *e)
{
	return e->path;
}

int elfsym__type(const struct elfsym *e)
{
	return e->ehdr.e_type;
}

int elfsym__machine(const struct elfsym *e)
{
	return e->ehdr.e_machine;
}

bool elfsym__is_stripped(const struct elfsym *e)
{
	return !e->symtab;
}

bool elfsym__is_go(const struct elfsym *e)
{
	return e->is_go;
}

static int find_in(const struct elfsym *e, Elf_Scn *scn, const char *name, bool func_only,
		   GElf_Sym *out)
{
	Elf_Data *data = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	const char *s;
	size_t i, n;
	int type;

	if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -ENOENT;
	n = sh.sh_size / sh.sh_entsize;
	data = elf_getdata(scn, NULL);
	for (i = 1; data && i < n; i++) {
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (func_only && type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (type == STT_SECTION || type == STT_FILE || type == STT_TLS)
			continue;
		s = elf_strptr(e->elf, sh.sh_link, sym.st_name);
		if (s && !strcmp(s, name)) {
			/* C static functions may share a name across files: the
			 * first wins, as in nm order. */
			*out = sym;
			return 0;
		}
	}
	return -ENOENT;
}

static int find_sym(const struct elfsym *e, const char *name, bool func_only,
		    struct elfsym_func *f)
{
	GElf_Sym sym;
	int err;

	f->table = ELFSYM_SYMTAB;
	err = find_in(e, e->symtab, name, func_only, &sym);
	if (err == -ENOENT) {
		f->table = ELFSYM_DYNSYM;
		err = find_in(e, e->dynsym, name, func_only, &sym);
	}
	if (err)
		return err;
	f->vaddr = sym.st_value;
	f->size = sym.st_size;
	err = elfsym__vaddr_to_offset(e, f->vaddr, &f->offset);
	if (err && !func_only) {
		/* Data in .bss has an address but no bytes in the file. */
		f->offset = ELFSYM_NO_OFFSET;
		err = 0;
	}
	return err;
}

int elfsym__find_func(const struct elfsym *e, const char *name, struct elfsym_func *f)
{
	return find_sym(e, name, true, f);
}

int elfsym__find_symbol(const struct elfsym *e, const char *name, struct elfsym_func *f)
{
	return find_sym(e, name, false, f);
}

/* The PT_LOAD whose file-backed bytes hold [vaddr, vaddr+len). Only
 * p_filesz counts: the tail up to p_memsz (.bss) has no file offset. */
static const GElf_Phdr *load_segment(const struct elfsym *e, __u64 vaddr, __u64 len)
{
	const GElf_Phdr *p;
	size_t i;

	for (i = 0; i < e->nphdrs; i++) {
		p = &e->phdrs[i];
		if (p->p_type != PT_LOAD || vaddr < p->p_vaddr)
			continue;
		if (vaddr - p->p_vaddr < p->p_filesz && len <= p->p_filesz - (vaddr - p->p_vaddr))
			return p;
	}
	return NULL;
}

int elfsym__vaddr_to_offset(const struct elfsym *e, __u64 vaddr, __u64 *offset)
{
	const GElf_Phdr *p = load_segment(e, vaddr, 1);

	if (!p)
		return -ERANGE;
	/* Uprobes need this offset, not vaddr - base: in PIE files and shared
	 * libraries p_vaddr and p_offset of a segment may differ. */
	*offset = vaddr - p->p_vaddr + p->p_offset;
	return 0;
}

const void *elfsym__data_at(const struct elfsym *e, __u64 vaddr, size_t len)
{
	const GElf_Phdr *p = load_segment(e, vaddr, len ? len : 1);
	__u64 off;

	if (!p)
		return NULL;
	off = vaddr - p->p_vaddr + p->p_offset;
	if (off > e->img_size || len > e->img_size - off)
		return NULL;
	return e->img + off;
}

static bool is_relative(const struct elfsym *e, __u64 type)
{
	switch (e->ehdr.e_machine) {
	case EM_X86_64:
		return type == R_X86_64_RELATIVE;
	case EM_AARCH64:
		return type == R_AARCH64_RELATIVE;
	case EM_386:
		return type == R_386_RELATIVE;
	default:
		return false;
	}
}

/* A dynamic RELA relocation of type RELATIVE at vaddr: its addend is the
 * link-time value the loader will store there (plus the load bias). */
static int find_relative(const struct elfsym *e, __u64 vaddr, __u64 *val)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Rela r;
	size_t i, n;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !(sh.sh_flags & SHF_ALLOC) || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; data && i < n; i++) {
			if (!gelf_getrela(data, (int)i, &r) || r.r_offset != vaddr)
				continue;
			if (!is_relative(e, GELF_R_TYPE(r.r_info)))
				continue;
			*val = (__u64)r.r_addend;
			return 0;
		}
	}
	return -ENOENT;
}

int elfsym__read_ptr(const struct elfsym *e, __u64 vaddr, unsigned int ptr_size, __u64 *val)
{
	const __u8 *p = elfsym__data_at(e, vaddr, ptr_size);
	__u32 v32;

	if (!p || (ptr_size != 4 && ptr_size != 8))
		return -ERANGE;
	if (!find_relative(e, vaddr, val))
		return 0;
	if (ptr_size == 8) {
		memcpy(val, p, 8);
	} else {
		memcpy(&v32, p, 4);
		*val = v32;
	}
	return 0;
}

static int fill_section(const struct elfsym *e, Elf_Scn *scn, struct elfsym_section *s)
{
	GElf_Shdr sh;

	if (!gelf_getshdr(scn, &sh))
		return -ENOEXEC;
	s->name = elf_strptr(e->elf, e->shstrndx, sh.sh_name);
	if (!s->name)
		s->name = "";
	s->vaddr = sh.sh_flags & SHF_ALLOC ? sh.sh_addr : 0;
	s->offset = sh.sh_offset;
	s->size = sh.sh_size;
	s->flags = sh.sh_flags;
	s->type = sh.sh_type;
	s->data = NULL;
	if (sh.sh_type != SHT_NOBITS && sh.sh_offset <= e->img_size &&
	    sh.sh_size <= e->img_size - sh.sh_offset)
		s->data = e->img + sh.sh_offset;
	return 0;
}

int elfsym__next_section(const struct elfsym *e, size_t *iter, struct elfsym_section *s)
{
	size_t n;
	Elf_Scn *scn;

	if (elf_getshdrnum(e->elf, &n))
		return -ENOEXEC;
	/* Section 0 is the null section: start at 1. */
	if (*iter == 0)
		*iter = 1;
	if (*iter >= n)
		return -ENOENT;
	scn = elf_getscn(e->elf, *iter);
	(*iter)++;
	return scn ? fill_section(e, scn, s) : -ENOEXEC;
}

int elfsym__section(const struct elfsym *e, const char *name, struct elfsym_section *s)
{
	size_t iter = 0;
	int err;

	while (!(err = elfsym__next_section(e, &iter, s)))
		if (!strcmp(s->name, name))
			return 0;
	return err;
}
