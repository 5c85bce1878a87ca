/* A tiny test harness for the C API tests: CHECK records a failure and goes on; each
 * test is a function run by RUN, which prints "ok"/"FAIL" and its name. The program's exit
 * status is the number of failed checks (0 = all passed). */
#ifndef WSPC_TEST_HARNESS_H
#define WSPC_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_failures = 0;
static const char *harness_test = "";

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, harness_test, \
                    #cond);                                                                 \
            harness_failures++;                                                             \
        }                                                                                   \
    } while (0)

#define CHECK_HR(expr, expected)                                                            \
    do {                                                                                    \
        HRESULT check_hr_ = (expr);                                                         \
        if (check_hr_ != (HRESULT)(expected)) {                                             \
            fprintf(stderr, "%s:%d: %s: %s returned 0x%08x, expected 0x%08x\n", __FILE__,   \
                    __LINE__, harness_test, #expr, (unsigned)check_hr_, (unsigned)(expected)); \
            harness_failures++;                                                             \
        }                                                                                   \
    } while (0)

#define RUN(test)                                                                           \
    do {                                                                                    \
        int before_ = harness_failures;                                                     \
        harness_test = #test;                                                               \
        test();                                                                             \
        printf("%s %s\n", harness_failures == before_ ? "ok  " : "FAIL", #test);            \
    } while (0)

#define HARNESS_EXIT() (harness_failures == 0 ? 0 : 1)

#endif
