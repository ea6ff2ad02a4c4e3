/* Error numbers: functions return 0 or one of these negated, as in Linux. */
#pragma once

#define EPERM	  1
#define ENOENT	  2
#define ENXIO	  6
#define E2BIG	  7
#define ENOEXEC	  8
#define EBADF	  9
#define ECHILD	  10
#define EAGAIN	  11
#define EIO	  5
#define ENOMEM	  12
#define EFAULT	  14
#define EBUSY	  16
#define EEXIST	  17
#define EINVAL	  22
#define ERANGE	  34
#define EDEADLK	  35
#define ENOSYS	  38
#define ETIMEDOUT 110
