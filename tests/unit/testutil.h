/* testutil.h — shared by the unit tests: cmocka, fixture paths, small file helpers. */
#ifndef HEARTH_TESTUTIL_H
#define HEARTH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Fixture directory: $HEARTH_FIXTURES, else ../shared/fixtures relative to the repo root
 * (tests run from the repo root). Returns a static buffer: "<dir>/<rel>". */
static inline const char *fixture_path(const char *rel)
{
    static char buf[4][4096];
    static int slot;
    const char *dir = getenv("HEARTH_FIXTURES");
    if (!dir || !*dir) dir = "../shared/fixtures";
    char *out = buf[slot++ & 3];
    snprintf(out, sizeof buf[0], "%s/%s", dir, rel);
    return out;
}

static inline int fixture_exists(const char *rel)
{
    FILE *f = fopen(fixture_path(rel), "rb");
    if (f) fclose(f);
    return f != NULL;
}

#endif
