/* Error numbers: functions return 0 or one of these negated, as in Linux. */
#pragma once

#define EPERM  1
#define ENOENT 2
#define EIO    5
#define ENOMEM 12
#define EFAULT 14
#define EBUSY  16
#define EEXIST 17
#define EINVAL 22
#define ERANGE 34
#define ENOSYS 38
