/* Tape capture shim: C functions with ProfitDLL's callback signatures that copy each event
 * into a fixed-size record in a lock-free ring; JS drains the ring in batches with one koffi
 * call. The record layout is a contract with native/profitdll.ts (docs/native.md). */
#ifndef TAPE_CAPTURE_H
#define TAPE_CAPTURE_H
#include "../include/profitdll.h"

#define TAPE_RECORD_BYTES 256
#define TAPE_MIN_CAPACITY 16384
#define TAPE_MAX_CAPACITY (1 << 22)

/* Record kinds (byte 0). */
enum {
  REC_STATE = 1,
  REC_TRADE = 2,
  REC_HISTORY_TRADE = 3,
  REC_DAILY = 4,
  REC_PRICE_BOOK = 5,
  REC_OFFER_BOOK = 6,
  REC_TINY_BOOK = 7,
  REC_INVALID_TICKER = 8,
  REC_TICKER_STATE = 9,
  REC_PROGRESS = 10,
  REC_ACCOUNT = 11,
  REC_ORDER = 12, /* TConnectorOrderCallback (SetOrderCallback) */
};

/* Flags (byte 1). */
#define REC_FLAG_TRUNCATED 1 /* a string was longer than its slot: the copy holds its first units */

/* Header and string slots: A = ticker (or account id, or ClOrderID), B = exchange, C = date (or text). */
#define OFF_KIND 0
#define OFF_FLAGS 1
#define OFF_LEN_A 2
#define OFF_LEN_B 3
#define OFF_LEN_C 4
#define OFF_CAPTURED_NS 8
#define OFF_FEED 16
#define OFF_A 24
#define UNITS_A 24
#define OFF_B 72
#define UNITS_B 4
#define OFF_C 80
#define UNITS_C 32
#define OFF_PAYLOAD 144 /* 112 bytes, laid out per kind in docs/native.md */

PDLL_EXPORT int32_t tape_capture_reset(int32_t capacityPow2);
PDLL_EXPORT int32_t tape_capture_drain(uint8_t *out, int32_t maxRecords);
PDLL_EXPORT int32_t tape_capture_wait(int32_t timeoutMs, int32_t lingerUs);
PDLL_EXPORT void tape_capture_wake(void);
PDLL_EXPORT uint64_t tape_capture_dropped(void);
PDLL_EXPORT uint64_t tape_capture_pending(void);
PDLL_EXPORT int32_t tape_capture_capacity(void);
PDLL_EXPORT int32_t tape_capture_record_bytes(void);

#endif
