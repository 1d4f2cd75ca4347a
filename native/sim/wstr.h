/* UTF-16 (PWideChar) helpers for the simulator: ProfitDLL strings are uint16_t units. */
#ifndef TAPE_SIM_WSTR_H
#define TAPE_SIM_WSTR_H
#include <stdlib.h>
#include <string.h>

#include "../include/profitdll.h"

static inline size_t wlen(const wchar16 *s) {
  size_t n = 0;
  while (s && s[n]) n++;
  return n;
}

static inline int weq(const wchar16 *a, const wchar16 *b) {
  size_t n = wlen(a);
  return n == wlen(b) && memcmp(a, b, n * 2) == 0;
}

/* Copies at most units - 1 code units and terminates. */
static inline void wcopy(wchar16 *dst, const wchar16 *src, size_t units) {
  size_t n = 0;
  for (; src && src[n] && n + 1 < units; n++) dst[n] = src[n];
  dst[n] = 0;
}

static inline void wfrom_ascii(wchar16 *dst, const char *src, size_t units) {
  size_t n = 0;
  for (; src[n] && n + 1 < units; n++) dst[n] = (wchar16)(unsigned char)src[n];
  dst[n] = 0;
}

static inline int weq_ascii(const wchar16 *a, const char *b) {
  size_t n = 0;
  for (; a && a[n] && b[n]; n++)
    if (a[n] != (wchar16)(unsigned char)b[n]) return 0;
  return a && a[n] == 0 && b[n] == 0;
}

/* Heap copy of any length (NULL stays NULL), so injected garbage reaches callbacks intact. */
static inline wchar16 *wdup(const wchar16 *s) {
  if (!s) return NULL;
  size_t n = wlen(s);
  wchar16 *d = malloc((n + 1) * 2);
  if (d) memcpy(d, s, (n + 1) * 2);
  return d;
}
#endif
