/* seccomp: the filter that keeps a program off the network even where no
 * network namespace can be made, and refuses what no limit would bound
 * where the machine has no memory cgroup (memfd pages and SysV segments are
 * not in RLIMIT_AS once unmapped). It is a fixed BPF program of twenty
 * instructions, short enough to audit line by line, and it is installed
 * between fork and execve, where only system calls are safe (child.c). */
#include "sandbox/internal.h"

#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

/* A number no system call has: nr >= 0x40000000 returns earlier (insn 4). */
#define NR_NONE 0x3fffffffu

#ifdef SECCOMP_ARCH
/* socket() only for AF_UNIX and AF_NETLINK (bwrap brings up lo with it);
 * io_uring refused (IORING_OP_SOCKET bypasses a socket() filter); another
 * ABI (i386 int 0x80, x32 numbers) kills: its syscall numbers differ and
 * i386 has socketcall(). Args are read little-endian (low word first).
 * Insns 9-11 refuse what only a memory cgroup bounds (seccomp_refuse sets
 * their numbers; NR_NONE leaves them allowed). */
static struct sock_filter seccomp_insns[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
    /* 2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    /* 4 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 13, 0),   /* -> 18 */
    /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 7, 0),    /* -> 13 */
    /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 11, 0),
    /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 10, 0),
    /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 9, 0),
    /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_NONE, 9, 0),        /* memfd_create -> 19 */
    /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_NONE, 8, 0),       /* shmget -> 19 */
    /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_NONE, 7, 0),       /* msgget -> 19 */
    /* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 13 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    /* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 2, 0),       /* -> 17 */
    /* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 1, 0),    /* -> 17 */
    /* 16 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
    /* 17 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 18 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
    /* 19 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
};
#endif

void seccomp_refuse(int memfd, int sysv)
{
#ifdef SECCOMP_ARCH
    seccomp_insns[9].k = memfd ? __NR_memfd_create : NR_NONE;
    seccomp_insns[10].k = sysv ? __NR_shmget : NR_NONE;
    seccomp_insns[11].k = sysv ? __NR_msgget : NR_NONE;
#else
    (void)memfd;
    (void)sysv;
#endif
}

int seccomp_supported(void)
{
#ifdef SECCOMP_ARCH
    return 1;
#else
    return 0;
#endif
}

int seccomp_install(void)
{
#ifdef SECCOMP_ARCH
    struct sock_fprog prog = {sizeof seccomp_insns / sizeof seccomp_insns[0], seccomp_insns};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}
