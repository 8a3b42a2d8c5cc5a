/* text.c — small text helpers for the agent: model output and truncated messages must become
 * valid UTF-8 before they enter JSON (jansson refuses invalid strings, and a refused event or
 * journal entry would silently lose a decision). */
#include <stdint.h>
#include <string.h>

#include "agent/agent.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid (overlongs, surrogates and
 * code points above U+10FFFF are invalid too). */
static int seq_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!n || (size_t)n > left) return 0;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

char *agent_utf8_fix(char *s)
{
    if (!s) return s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        int n = seq_len((const unsigned char *)s + i, len - i);
        if (n) {
            i += (size_t)n;
        } else {
            s[i++] = '?';
        }
    }
    return s;
}
