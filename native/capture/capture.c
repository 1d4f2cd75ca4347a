/* Capture shim. ProfitDLL runs its callbacks on its ConnectorThread (the only producer);
 * the JS thread is the only consumer. Each callback copies its arguments into one fixed-size
 * record and returns at once, as the DLL's manual asks: no locks, no allocation, no I/O. */
#include "capture.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICKER_UNITS 16
#define EXCHANGE_UNITS 4
#define DATE_UNITS 24

/* Record layout (little-endian), documented in docs/native.md. */
#define OFF_KIND 0
#define OFF_FLAGS 1
#define OFF_TICKER_LEN 2
#define OFF_EXCHANGE_LEN 3
#define OFF_DATE_LEN 4
#define OFF_CAPTURED_NS 8
#define OFF_TICKER 16
#define OFF_EXCHANGE 48
#define OFF_DATE 56
#define OFF_F64_A 104 /* price / state type+result */
#define OFF_F64_B 112 /* volume */
#define OFF_I32_A 120 /* qty */
#define OFF_U32_B 124 /* trade number */
#define OFF_I32_C 128 /* buy agent / side */
#define OFF_I32_D 132 /* sell agent */
#define OFF_I32_E 136 /* trade type / state */
#define OFF_I32_F 140 /* feed */
#define OFF_OPEN 144
#define OFF_HIGH 152
#define OFF_LOW 160

static uint8_t *ring;
static uint64_t capacity; /* power of two */
static _Atomic uint64_t head; /* next record the producer writes */
static _Atomic uint64_t tail; /* next record the consumer reads */
static _Atomic uint64_t dropped;

PDLL_EXPORT int32_t tape_capture_reset(int32_t capacityPow2) {
  if (capacityPow2 < 1024 || (capacityPow2 & (capacityPow2 - 1)) != 0) return -1;
  free(ring);
  ring = calloc((size_t)capacityPow2, TAPE_RECORD_BYTES);
  if (!ring) return -2;
  capacity = (uint64_t)capacityPow2;
  atomic_store(&head, 0);
  atomic_store(&tail, 0);
  atomic_store(&dropped, 0);
  return 0;
}

#ifdef _WIN32
#include <windows.h>
static int64_t now_ns(void) { /* FILETIME: 100 ns ticks since 1601 */
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
  return (int64_t)(t - 116444736000000000ULL) * 100;
}
#else
static int64_t now_ns(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#endif

/* Claims the next slot, or counts a drop when the ring is full (never blocks the DLL). */
static uint8_t *claim(uint8_t kind) {
  if (!ring) return NULL;
  uint64_t h = atomic_load_explicit(&head, memory_order_relaxed);
  if (h - atomic_load_explicit(&tail, memory_order_acquire) >= capacity) {
    atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
    return NULL;
  }
  uint8_t *r = ring + (h & (capacity - 1)) * TAPE_RECORD_BYTES;
  memset(r, 0, TAPE_RECORD_BYTES);
  r[OFF_KIND] = kind;
  int64_t ns = now_ns();
  memcpy(r + OFF_CAPTURED_NS, &ns, 8);
  return r;
}

static void publish(void) { atomic_fetch_add_explicit(&head, 1, memory_order_release); }

/* Copies a NUL-terminated UTF-16 string, flagging it when longer than the slot. */
static void put_str(uint8_t *r, int off, int lenOff, const wchar16 *s, int units) {
  int n = 0;
  if (s) {
    while (s[n] != 0 && n < units) n++;
    if (n == units && s[n] != 0) r[OFF_FLAGS] |= REC_FLAG_TRUNCATED;
    memcpy(r + off, s, (size_t)n * 2);
  }
  r[lenOff] = (uint8_t)n;
}

static void put_asset(uint8_t *r, TAssetIDRec a) {
  put_str(r, OFF_TICKER, OFF_TICKER_LEN, a.ticker, TICKER_UNITS);
  put_str(r, OFF_EXCHANGE, OFF_EXCHANGE_LEN, a.bolsa, EXCHANGE_UNITS);
  memcpy(r + OFF_I32_F, &a.feed, 4);
}

#define PUT(r, off, v)                                                                                                 \
  do {                                                                                                                 \
    __typeof__(v) tmp_ = (v);                                                                                          \
    memcpy((r) + (off), &tmp_, sizeof tmp_);                                                                           \
  } while (0)

static void PDLL_CALL on_state(int32_t type, int32_t result) {
  uint8_t *r = claim(REC_STATE);
  if (!r) return;
  PUT(r, OFF_F64_A, type);
  PUT(r, OFF_F64_A + 4, result);
  publish();
}

static void trade(uint8_t kind, TAssetIDRec asset, const wchar16 *date, uint32_t number, double price, double volume,
                  int32_t qty, int32_t buy, int32_t sell, int32_t type, uint8_t edit) {
  uint8_t *r = claim(kind);
  if (!r) return;
  put_asset(r, asset);
  put_str(r, OFF_DATE, OFF_DATE_LEN, date, DATE_UNITS);
  if (edit) r[OFF_FLAGS] |= REC_FLAG_EDIT;
  PUT(r, OFF_F64_A, price);
  PUT(r, OFF_F64_B, volume);
  PUT(r, OFF_I32_A, qty);
  PUT(r, OFF_U32_B, number);
  PUT(r, OFF_I32_C, buy);
  PUT(r, OFF_I32_D, sell);
  PUT(r, OFF_I32_E, type);
  publish();
}

static void PDLL_CALL on_trade(TAssetIDRec asset, const wchar16 *date, uint32_t number, double price, double volume,
                               int32_t qty, int32_t buy, int32_t sell, int32_t type, uint8_t edit) {
  trade(REC_TRADE, asset, date, number, price, volume, qty, buy, sell, type, edit);
}

static void PDLL_CALL on_history_trade(TAssetIDRec asset, const wchar16 *date, uint32_t number, double price,
                                       double volume, int32_t qty, int32_t buy, int32_t sell, int32_t type) {
  trade(REC_HISTORY_TRADE, asset, date, number, price, volume, qty, buy, sell, type, 0);
}

static void PDLL_CALL on_daily(TAssetIDRec asset, const wchar16 *date, double open, double high, double low,
                               double close, double volume, double adjust, double maxLimit, double minLimit,
                               double volBuyer, double volSeller, int32_t qty, int32_t trades, int32_t openContracts,
                               int32_t qtyBuyer, int32_t qtySeller, int32_t tradesBuyer, int32_t tradesSeller) {
  (void)adjust, (void)maxLimit, (void)minLimit, (void)volBuyer, (void)volSeller, (void)openContracts;
  (void)qtyBuyer, (void)qtySeller, (void)tradesBuyer, (void)tradesSeller;
  uint8_t *r = claim(REC_DAILY);
  if (!r) return;
  put_asset(r, asset);
  put_str(r, OFF_DATE, OFF_DATE_LEN, date, DATE_UNITS);
  PUT(r, OFF_F64_A, close);
  PUT(r, OFF_F64_B, volume);
  PUT(r, OFF_I32_A, qty);
  PUT(r, OFF_U32_B, (uint32_t)trades);
  PUT(r, OFF_OPEN, open);
  PUT(r, OFF_HIGH, high);
  PUT(r, OFF_LOW, low);
  publish();
}

static void PDLL_CALL on_tiny_book(TAssetIDRec asset, double price, int32_t qty, int32_t side) {
  uint8_t *r = claim(REC_TINY_BOOK);
  if (!r) return;
  put_asset(r, asset);
  PUT(r, OFF_F64_A, price);
  PUT(r, OFF_I32_A, qty);
  PUT(r, OFF_I32_C, side);
  publish();
}

static void PDLL_CALL on_invalid_ticker(TAssetIDRec asset) {
  uint8_t *r = claim(REC_INVALID_TICKER);
  if (!r) return;
  put_asset(r, asset);
  publish();
}

static void PDLL_CALL on_ticker_state(TAssetIDRec asset, const wchar16 *date, int32_t state) {
  uint8_t *r = claim(REC_TICKER_STATE);
  if (!r) return;
  put_asset(r, asset);
  put_str(r, OFF_DATE, OFF_DATE_LEN, date, DATE_UNITS);
  PUT(r, OFF_I32_E, state);
  publish();
}

/* Function pointers for the binding to hand to DLLInitializeLogin / Set*Callback. */
PDLL_EXPORT void *tape_capture_state_cb(void) { return (void *)on_state; }
PDLL_EXPORT void *tape_capture_trade_cb(void) { return (void *)on_trade; }
PDLL_EXPORT void *tape_capture_history_trade_cb(void) { return (void *)on_history_trade; }
PDLL_EXPORT void *tape_capture_daily_cb(void) { return (void *)on_daily; }
PDLL_EXPORT void *tape_capture_tiny_book_cb(void) { return (void *)on_tiny_book; }
PDLL_EXPORT void *tape_capture_invalid_ticker_cb(void) { return (void *)on_invalid_ticker; }
PDLL_EXPORT void *tape_capture_ticker_state_cb(void) { return (void *)on_ticker_state; }

/* Copies up to maxRecords records into out; returns how many. One call per batch from JS. */
PDLL_EXPORT int32_t tape_capture_drain(uint8_t *out, int32_t maxRecords) {
  if (!ring || maxRecords <= 0) return 0;
  uint64_t t = atomic_load_explicit(&tail, memory_order_relaxed);
  uint64_t h = atomic_load_explicit(&head, memory_order_acquire);
  uint64_t n = h - t;
  if (n > (uint64_t)maxRecords) n = (uint64_t)maxRecords;
  uint64_t start = t & (capacity - 1);
  uint64_t first = n < capacity - start ? n : capacity - start;
  memcpy(out, ring + start * TAPE_RECORD_BYTES, first * TAPE_RECORD_BYTES);
  if (n > first) memcpy(out + first * TAPE_RECORD_BYTES, ring, (n - first) * TAPE_RECORD_BYTES);
  atomic_store_explicit(&tail, t + n, memory_order_release);
  return (int32_t)n;
}

PDLL_EXPORT uint64_t tape_capture_dropped(void) { return atomic_load(&dropped); }
PDLL_EXPORT uint64_t tape_capture_pending(void) { return atomic_load(&head) - atomic_load(&tail); }
