/* Capture shim. ProfitDLL calls these functions on its ConnectorThread; each one copies its
 * arguments into one fixed-size record and returns at once, as the manual asks: no locks, no
 * allocation, no I/O, no validation (the server validates and dead-letters). JS is the only
 * consumer. Producers claim slots with a CAS on per-slot sequence numbers (a bounded MPSC
 * queue), so the ring stays correct even if the DLL ever calls from a second thread. */
#if defined(_WIN32) && !defined(_WIN32_WINNT)
#define _WIN32_WINNT 0x0602 /* GetSystemTimePreciseAsFileTime: Windows 8+ */
#endif
#include "capture.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <pthread.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the capture record layout is little-endian"
#endif

/* Payload offsets per kind (docs/native.md mirrors this table). */
enum {
  P_STATE_TYPE = 144, P_STATE_RESULT = 148,
  P_TRADE_PRICE = 144, P_TRADE_VOLUME = 152, P_TRADE_NUMBER = 160, P_TRADE_QTY = 164, P_TRADE_BUY = 168,
  P_TRADE_SELL = 172, P_TRADE_TYPE = 176, P_TRADE_EDIT = 180, P_TRADE_LAST = 181,
  P_DAILY_F64 = 144, /* open high low close volume adjust maxLimit minLimit volBuyer volSeller */
  P_DAILY_I32 = 224, /* qty trades openContracts qtyBuyer qtySeller tradesBuyer tradesSeller */
  P_PB_PRICE = 144, P_PB_ACTION = 152, P_PB_POSITION = 156, P_PB_SIDE = 160, P_PB_QTY = 164, P_PB_COUNT = 168,
  P_PB_HAS_SELL = 172, P_PB_HAS_BUY = 173,
  P_OB_PRICE = 144, P_OB_OFFER_ID = 152, P_OB_ACTION = 160, P_OB_POSITION = 164, P_OB_SIDE = 168, P_OB_QTY = 172,
  P_OB_AGENT = 176, P_OB_HAS = 180 /* hasPrice hasQty hasDate hasOfferId hasAgent hasSellArray hasBuyArray */,
  P_TINY_PRICE = 144, P_TINY_QTY = 152, P_TINY_SIDE = 156,
  P_INVALID_VERSION = 144,
  P_TICKER_STATE = 144,
  P_PROGRESS = 144,
  P_ACCOUNT_BROKER = 144,
  P_ORDER_LOCAL_ID = 144, P_ORDER_VERSION = 152,
};

static uint8_t *records;
static _Atomic uint64_t *seqs; /* seqs[i & mask]: pos when free for pos, pos + 1 when published */
static uint64_t mask;
static _Atomic uint64_t head; /* next position producers claim */
static _Atomic uint64_t tail; /* next position the consumer reads */
static _Atomic uint64_t dropped;

/* Not safe while a producer may run: the binding calls it only with no DLL session active. */
PDLL_EXPORT int32_t tape_capture_reset(int32_t capacityPow2) {
  if (capacityPow2 < TAPE_MIN_CAPACITY || capacityPow2 > TAPE_MAX_CAPACITY || (capacityPow2 & (capacityPow2 - 1)))
    return -1;
  uint64_t cap = (uint64_t)capacityPow2;
  if (!records || mask + 1 != cap) {
    free(records);
    free((void *)seqs);
    records = malloc(cap * TAPE_RECORD_BYTES);
    seqs = malloc(cap * sizeof *seqs);
    if (!records || !seqs) {
      free(records);
      free((void *)seqs);
      records = NULL;
      seqs = NULL;
      mask = 0;
      return -2;
    }
    mask = cap - 1;
  }
  for (uint64_t i = 0; i < cap; i++) atomic_init(&seqs[i], i);
  atomic_store(&head, 0);
  atomic_store(&tail, 0);
  atomic_store(&dropped, 0);
  return 0;
}

static int64_t now_ns(void) {
#ifdef _WIN32
  FILETIME ft; /* 100 ns ticks since 1601; timespec_get is millisecond-coarse on older CRTs */
  GetSystemTimePreciseAsFileTime(&ft);
  uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
  return (int64_t)(t - 116444736000000000ULL) * 100;
#else
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
#endif
}

/* Claims a slot and stamps kind and time, or counts a drop when the ring is full (never blocks). */
static uint8_t *claim(uint8_t kind, uint64_t *posOut) {
  if (!records) {
    atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
    return NULL;
  }
  uint64_t pos = atomic_load_explicit(&head, memory_order_relaxed);
  for (;;) {
    uint64_t seq = atomic_load_explicit(&seqs[pos & mask], memory_order_acquire);
    int64_t diff = (int64_t)(seq - pos);
    if (diff == 0) {
      if (atomic_compare_exchange_weak_explicit(&head, &pos, pos + 1, memory_order_relaxed, memory_order_relaxed))
        break;
    } else if (diff < 0) { /* the slot still holds a record JS has not drained: full */
      atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
      return NULL;
    } else {
      pos = atomic_load_explicit(&head, memory_order_relaxed);
    }
  }
  uint8_t *r = records + (pos & mask) * TAPE_RECORD_BYTES;
  memset(r, 0, TAPE_RECORD_BYTES);
  r[OFF_KIND] = kind;
  int64_t ns = now_ns();
  memcpy(r + OFF_CAPTURED_NS, &ns, 8);
  *posOut = pos;
  return r;
}

/* The consumer may sleep in tape_capture_wait; the first record published after it went to sleep
 * wakes it. A producer pays one atomic load per record; only that one record takes the lock. */
#ifdef _WIN32
static SRWLOCK waitLock = SRWLOCK_INIT;
static CONDITION_VARIABLE waitCond = CONDITION_VARIABLE_INIT;
#define LOCK() AcquireSRWLockExclusive(&waitLock)
#define UNLOCK() ReleaseSRWLockExclusive(&waitLock)
#define SIGNAL() WakeConditionVariable(&waitCond)
#else
static pthread_mutex_t waitLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t waitCond = PTHREAD_COND_INITIALIZER;
#define LOCK() pthread_mutex_lock(&waitLock)
#define UNLOCK() pthread_mutex_unlock(&waitLock)
#define SIGNAL() pthread_cond_signal(&waitCond)
#endif
static atomic_int sleeping; /* the consumer is (about to be) waiting */
static atomic_int woken;    /* tape_capture_wake was called */

static void wake_consumer(void) {
  if (atomic_load(&sleeping) && atomic_exchange(&sleeping, 0)) {
    LOCK();
    SIGNAL();
    UNLOCK();
  }
}

static void publish(uint64_t pos) {
  atomic_store_explicit(&seqs[pos & mask], pos + 1, memory_order_release);
  wake_consumer();
}

static void put_i32(uint8_t *r, int off, int32_t v) { memcpy(r + off, &v, 4); }
static void put_i64(uint8_t *r, int off, int64_t v) { memcpy(r + off, &v, 8); }
static void put_f64(uint8_t *r, int off, double v) { memcpy(r + off, &v, 8); }

/* Copies a NUL-terminated UTF-16 string as raw code units (NULL → empty); flags truncation. */
static void put_str(uint8_t *r, int off, int lenOff, int units, const wchar16 *s) {
  if (!s) return;
  int n = 0;
  while (n < units && s[n] != 0) n++;
  if (n == units && s[n] != 0) r[OFF_FLAGS] |= REC_FLAG_TRUNCATED;
  memcpy(r + off, s, (size_t)n * 2);
  r[lenOff] = (uint8_t)n;
}

static void put_asset(uint8_t *r, TAssetIDRec a) {
  put_str(r, OFF_A, OFF_LEN_A, UNITS_A, a.ticker);
  put_str(r, OFF_B, OFF_LEN_B, UNITS_B, a.bolsa);
  put_i32(r, OFF_FEED, a.feed);
}

static void put_date(uint8_t *r, const wchar16 *date) { put_str(r, OFF_C, OFF_LEN_C, UNITS_C, date); }

static void PDLL_CALL on_state(int32_t type, int32_t result) {
  uint64_t pos;
  uint8_t *r = claim(REC_STATE, &pos);
  if (!r) return;
  put_i32(r, P_STATE_TYPE, type);
  put_i32(r, P_STATE_RESULT, result);
  publish(pos);
}

static void trade(uint8_t kind, TAssetIDRec asset, const wchar16 *date, uint32_t number, double price, double volume,
                  int32_t qty, int32_t buy, int32_t sell, int32_t type, uint8_t edit) {
  uint64_t pos;
  uint8_t *r = claim(kind, &pos);
  if (!r) return;
  put_asset(r, asset);
  put_date(r, date);
  put_f64(r, P_TRADE_PRICE, price);
  put_f64(r, P_TRADE_VOLUME, volume);
  memcpy(r + P_TRADE_NUMBER, &number, 4);
  put_i32(r, P_TRADE_QTY, qty);
  put_i32(r, P_TRADE_BUY, buy);
  put_i32(r, P_TRADE_SELL, sell);
  put_i32(r, P_TRADE_TYPE, type);
  r[P_TRADE_EDIT] = edit;
  publish(pos);
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
  uint64_t pos;
  uint8_t *r = claim(REC_DAILY, &pos);
  if (!r) return;
  put_asset(r, asset);
  put_date(r, date);
  const double f[] = {open, high, low, close, volume, adjust, maxLimit, minLimit, volBuyer, volSeller};
  const int32_t n[] = {qty, trades, openContracts, qtyBuyer, qtySeller, tradesBuyer, tradesSeller};
  memcpy(r + P_DAILY_F64, f, sizeof f);
  memcpy(r + P_DAILY_I32, n, sizeof n);
  publish(pos);
}

/* Full-book arrays (atFullBook) are not copied: their layout is not public enough to trust. */
static void PDLL_CALL on_price_book(TAssetIDRec asset, int32_t action, int32_t position, int32_t side, int32_t qty,
                                    int32_t count, double price, void *arraySell, void *arrayBuy) {
  uint64_t pos;
  uint8_t *r = claim(REC_PRICE_BOOK, &pos);
  if (!r) return;
  put_asset(r, asset);
  put_f64(r, P_PB_PRICE, price);
  put_i32(r, P_PB_ACTION, action);
  put_i32(r, P_PB_POSITION, position);
  put_i32(r, P_PB_SIDE, side);
  put_i32(r, P_PB_QTY, qty);
  put_i32(r, P_PB_COUNT, count);
  r[P_PB_HAS_SELL] = arraySell != NULL;
  r[P_PB_HAS_BUY] = arrayBuy != NULL;
  publish(pos);
}

static void PDLL_CALL on_offer_book(TAssetIDRec asset, int32_t action, int32_t position, int32_t side, int32_t qty,
                                    int32_t agent, int64_t offerId, double price, uint8_t hasPrice, uint8_t hasQty,
                                    uint8_t hasDate, uint8_t hasOfferId, uint8_t hasAgent, const wchar16 *date,
                                    void *arraySell, void *arrayBuy) {
  uint64_t pos;
  uint8_t *r = claim(REC_OFFER_BOOK, &pos);
  if (!r) return;
  put_asset(r, asset);
  put_date(r, date);
  put_f64(r, P_OB_PRICE, price);
  put_i64(r, P_OB_OFFER_ID, offerId);
  put_i32(r, P_OB_ACTION, action);
  put_i32(r, P_OB_POSITION, position);
  put_i32(r, P_OB_SIDE, side);
  put_i32(r, P_OB_QTY, qty);
  put_i32(r, P_OB_AGENT, agent);
  const uint8_t has[] = {hasPrice, hasQty, hasDate, hasOfferId, hasAgent, arraySell != NULL, arrayBuy != NULL};
  memcpy(r + P_OB_HAS, has, sizeof has);
  publish(pos);
}

static void PDLL_CALL on_tiny_book(TAssetIDRec asset, double price, int32_t qty, int32_t side) {
  uint64_t pos;
  uint8_t *r = claim(REC_TINY_BOOK, &pos);
  if (!r) return;
  put_asset(r, asset);
  put_f64(r, P_TINY_PRICE, price);
  put_i32(r, P_TINY_QTY, qty);
  put_i32(r, P_TINY_SIDE, side);
  publish(pos);
}

static void PDLL_CALL on_invalid_ticker(TConnectorAssetIdentifier asset) {
  uint64_t pos;
  uint8_t *r = claim(REC_INVALID_TICKER, &pos);
  if (!r) return;
  put_str(r, OFF_A, OFF_LEN_A, UNITS_A, asset.ticker);
  put_str(r, OFF_B, OFF_LEN_B, UNITS_B, asset.exchange);
  put_i32(r, OFF_FEED, asset.feedType);
  r[P_INVALID_VERSION] = asset.version;
  publish(pos);
}

static void PDLL_CALL on_ticker_state(TAssetIDRec asset, const wchar16 *date, int32_t state) {
  uint64_t pos;
  uint8_t *r = claim(REC_TICKER_STATE, &pos);
  if (!r) return;
  put_asset(r, asset);
  put_date(r, date);
  put_i32(r, P_TICKER_STATE, state);
  publish(pos);
}

static void PDLL_CALL on_progress(TAssetIDRec asset, int32_t progress) {
  uint64_t pos;
  uint8_t *r = claim(REC_PROGRESS, &pos);
  if (!r) return;
  put_asset(r, asset);
  put_i32(r, P_PROGRESS, progress);
  publish(pos);
}

/* Accounts: broker, account id and holder. */
static void PDLL_CALL on_account(int32_t broker, const wchar16 *brokerName, const wchar16 *accountId,
                                 const wchar16 *holderName) {
  (void)brokerName;
  uint64_t pos;
  uint8_t *r = claim(REC_ACCOUNT, &pos);
  if (!r) return;
  put_str(r, OFF_A, OFF_LEN_A, UNITS_A, accountId);
  put_str(r, OFF_C, OFF_LEN_C, UNITS_C, holderName);
  put_i32(r, P_ACCOUNT_BROKER, broker);
  publish(pos);
}

/* TConnectorOrderCallback: only the identifier; the binding reads the details with
 * GetOrderDetails outside the callback, as the manual requires. */
static void PDLL_CALL on_order(TConnectorOrderIdentifier id) {
  uint64_t pos;
  uint8_t *r = claim(REC_ORDER, &pos);
  if (!r) return;
  put_str(r, OFF_A, OFF_LEN_A, UNITS_A, id.clOrderId);
  put_i64(r, P_ORDER_LOCAL_ID, id.localOrderId);
  r[P_ORDER_VERSION] = id.version;
  publish(pos);
}

/* ---- The current market-data API: V2 trades and the price depth, into the same records ----
 * The V2 callbacks hand over a handle (pTrade) or a position, not the values: the values are read
 * here, with the DLL's TranslateTrade and GetPriceGroup, whose addresses the binding gives before
 * login (tape_capture_set_v2). Both only read what the DLL holds for this very event: pTrade is
 * valid during the callback only, and the price group is the DLL's own copy of the level that the
 * callback announces; neither asks the server for anything, so neither is one of the "request
 * functions" the manual forbids inside a callback, and reading later would see a later book
 * (docs/native.md). The records are those of V1, so everything after the ring is unchanged. */
static _Atomic(TTranslateTrade) translateTrade;
static _Atomic(TGetPriceGroup) getPriceGroup;

/* Not safe while a producer may run: the binding calls it only with no DLL session active. */
PDLL_EXPORT void tape_capture_set_v2(void *translate, void *priceGroup) {
  atomic_store(&translateTrade, (TTranslateTrade)translate);
  atomic_store(&getPriceGroup, (TGetPriceGroup)priceGroup);
}

/* A V2 quantity in the record's int32 field; one that does not fit arrives as INT32_MIN, which
 * capture and the book reject as a bad quantity (the shim itself validates nothing). */
static int32_t fit_i32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX ? (int32_t)v : INT32_MIN; }

static int put_digits(wchar16 *s, int n, unsigned v, int width) {
  wchar16 d[8];
  int k = 0;
  do d[k++] = (wchar16)('0' + v % 10); while ((v /= 10) != 0);
  while (k < width) d[k++] = '0';
  while (k > 0) s[n++] = d[--k];
  return n;
}

/* A SYSTEMTIME as the V1 date text, DD/MM/YYYY HH:MM:SS.ZZZ, digit for digit and unchecked: a
 * zero date or a field too wide for its place makes a text capture rejects as a bad date. */
static void put_systemtime(uint8_t *r, const TSystemTime *t) {
  const unsigned f[] = {t->day, t->month, t->year, t->hour, t->minute, t->second, t->milliseconds};
  static const int width[] = {2, 2, 4, 2, 2, 2, 3};
  static const char sep[] = "// ::.";
  wchar16 s[48];
  int n = 0;
  for (int i = 0; i < 7; i++) {
    n = put_digits(s, n, f[i], width[i]);
    if (i < 6) s[n++] = (wchar16)sep[i];
  }
  s[n] = 0;
  put_date(r, s);
}

static void put_identifier(uint8_t *r, const TConnectorAssetIdentifier *a) {
  put_str(r, OFF_A, OFF_LEN_A, UNITS_A, a->ticker);
  put_str(r, OFF_B, OFF_LEN_B, UNITS_B, a->exchange);
  put_i32(r, OFF_FEED, a->feedType);
}

static const wchar16 UNTRANSLATED[] = {'T', 'r', 'a', 'n', 's', 'l', 'a', 't', 'e', 'T', 'r',
                                       'a', 'd', 'e', ' ', 'f', 'a', 'i', 'l', 'e', 'd', 0};

static void trade_v2(uint8_t kind, TConnectorAssetIdentifier asset, void *pTrade, uint32_t flags) {
  uint64_t pos;
  uint8_t *r = claim(kind, &pos);
  if (!r) return;
  put_identifier(r, &asset);
  TConnectorTrade t;
  memset(&t, 0, sizeof t);
  TTranslateTrade translate = atomic_load(&translateTrade);
  if (translate && translate(pTrade, &t) == NL_OK) {
    put_systemtime(r, &t.tradeDate);
    put_f64(r, P_TRADE_PRICE, t.price);
    put_f64(r, P_TRADE_VOLUME, t.volume);
    memcpy(r + P_TRADE_NUMBER, &t.tradeNumber, 4);
    put_i32(r, P_TRADE_QTY, fit_i32(t.quantity));
    put_i32(r, P_TRADE_BUY, t.buyAgent);
    put_i32(r, P_TRADE_SELL, t.sellAgent);
    put_i32(r, P_TRADE_TYPE, t.tradeType);
  } else { /* no values: the date slot says why, and capture dead-letters it as a bad date */
    put_date(r, UNTRANSLATED);
  }
  r[P_TRADE_EDIT] = (flags & TC_IS_EDIT) != 0;
  r[P_TRADE_LAST] = (flags & TC_LAST_PACKET) != 0;
  publish(pos);
}

static void PDLL_CALL on_trade_v2(TConnectorAssetIdentifier asset, void *pTrade, uint32_t flags) {
  trade_v2(REC_TRADE, asset, pTrade, flags);
}

static void PDLL_CALL on_history_trade_v2(TConnectorAssetIdentifier asset, void *pTrade, uint32_t flags) {
  trade_v2(REC_HISTORY_TRADE, asset, pTrade, flags);
}

/* The V1 price-book record of one price-depth change: an add or edit carries the level read with
 * GetPriceGroup; one that cannot be read carries a NaN price, which the book rejects. */
static void PDLL_CALL on_price_depth(TConnectorAssetIdentifier asset, uint8_t side, int32_t position,
                                     uint8_t updateType) {
  uint64_t pos;
  uint8_t *r = claim(REC_PRICE_BOOK, &pos);
  if (!r) return;
  put_identifier(r, &asset);
  put_i32(r, P_PB_ACTION, updateType);
  put_i32(r, P_PB_POSITION, position);
  put_i32(r, P_PB_SIDE, side);
  if (updateType == DEPTH_ADD || updateType == DEPTH_EDIT) {
    TConnectorPriceGroup g;
    memset(&g, 0, sizeof g);
    TGetPriceGroup get = atomic_load(&getPriceGroup);
    if (get && get(&asset, side, position, &g) == NL_OK) {
      put_f64(r, P_PB_PRICE, g.price);
      put_i32(r, P_PB_QTY, fit_i32(g.quantity));
      put_i32(r, P_PB_COUNT, g.count <= INT32_MAX ? (int32_t)g.count : INT32_MIN);
    } else {
      put_f64(r, P_PB_PRICE, NAN);
    }
  }
  publish(pos);
}

/* Function pointers for the binding to hand to DLLInitialize* and Set*Callback. The typed
 * locals make the compiler check each function against ProfitDLL's callback type. */
#define GETTER(name, type, fn)                                                                                         \
  PDLL_EXPORT void *tape_capture_##name(void) {                                                                      \
    type f = fn;                                                                                                       \
    return (void *)f;                                                                                                  \
  }
GETTER(state_cb, TStateCallback, on_state)
GETTER(account_cb, TAccountCallback, on_account)
GETTER(trade_cb, TNewTradeCallback, on_trade)
GETTER(daily_cb, TNewDailyCallback, on_daily)
GETTER(price_book_cb, TPriceBookCallback, on_price_book)
GETTER(offer_book_cb, TOfferBookCallback, on_offer_book)
GETTER(history_trade_cb, THistoryTradeCallback, on_history_trade)
GETTER(progress_cb, TProgressCallback, on_progress)
GETTER(tiny_book_cb, TTinyBookCallback, on_tiny_book)
GETTER(order_cb, TConnectorOrderCallback, on_order)
GETTER(invalid_ticker_cb, TInvalidTickerCallback, on_invalid_ticker)
GETTER(ticker_state_cb, TChangeStateTicker, on_ticker_state)
GETTER(trade_v2_cb, TConnectorTradeCallback, on_trade_v2)
GETTER(history_trade_v2_cb, TConnectorTradeCallback, on_history_trade_v2)
GETTER(price_depth_cb, TConnectorPriceDepthCallback, on_price_depth)

/* Copies up to maxRecords published records into out, oldest first; one call per JS batch. */
PDLL_EXPORT int32_t tape_capture_drain(uint8_t *out, int32_t maxRecords) {
  if (!records || !out || maxRecords <= 0) return 0;
  uint64_t t = atomic_load_explicit(&tail, memory_order_relaxed);
  int32_t n = 0;
  for (; n < maxRecords; n++, t++) {
    _Atomic uint64_t *s = &seqs[t & mask];
    if (atomic_load_explicit(s, memory_order_acquire) != t + 1) break;
    memcpy(out + (size_t)n * TAPE_RECORD_BYTES, records + (t & mask) * TAPE_RECORD_BYTES, TAPE_RECORD_BYTES);
    atomic_store_explicit(s, t + mask + 1, memory_order_release); /* free for the producer's next lap */
  }
  atomic_store_explicit(&tail, t, memory_order_relaxed);
  return n;
}

static int has_record(void) {
  uint64_t t = atomic_load(&tail);
  return records && atomic_load_explicit(&seqs[t & mask], memory_order_acquire) == t + 1;
}

/* Blocks until a record is ready to drain, tape_capture_wake is called, or timeoutMs passes;
 * returns 1 when a record is ready. JS calls it asynchronously (a libuv worker thread), so the
 * drain runs as soon as the DLL delivers instead of on a timer. After the first record it lingers
 * lingerUs more, so a busy feed is drained in batches rather than one wake-up per event. */
PDLL_EXPORT int32_t tape_capture_wait(int32_t timeoutMs, int32_t lingerUs) {
  LOCK();
  atomic_store(&sleeping, 1); /* then re-check: a record published before this is seen below */
#ifdef _WIN32
  ULONGLONG deadline = GetTickCount64() + (ULONGLONG)(timeoutMs > 0 ? timeoutMs : 0);
  while (!has_record() && !atomic_load(&woken)) {
    ULONGLONG now = GetTickCount64();
    if (now >= deadline || !SleepConditionVariableSRW(&waitCond, &waitLock, (DWORD)(deadline - now), 0)) break;
  }
#else
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += timeoutMs / 1000;
  deadline.tv_nsec += (long)(timeoutMs % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  while (!has_record() && !atomic_load(&woken)) {
    if (pthread_cond_timedwait(&waitCond, &waitLock, &deadline) == ETIMEDOUT) break;
  }
#endif
  atomic_store(&sleeping, 0);
  int wake = atomic_exchange(&woken, 0);
  int32_t ready = has_record();
  UNLOCK();
  if (ready && !wake && lingerUs > 0) {
#ifdef _WIN32
    Sleep((DWORD)((lingerUs + 999) / 1000));
#else
    struct timespec linger = {0, (long)lingerUs * 1000L};
    nanosleep(&linger, NULL);
#endif
  }
  return ready;
}

/* Ends a tape_capture_wait at once (the server is stopping). */
PDLL_EXPORT void tape_capture_wake(void) {
  LOCK();
  atomic_store(&woken, 1);
  SIGNAL();
  UNLOCK();
}

PDLL_EXPORT uint64_t tape_capture_dropped(void) { return atomic_load(&dropped); }
PDLL_EXPORT uint64_t tape_capture_pending(void) { return atomic_load(&head) - atomic_load(&tail); }
PDLL_EXPORT int32_t tape_capture_capacity(void) { return records ? (int32_t)(mask + 1) : 0; }
PDLL_EXPORT int32_t tape_capture_record_bytes(void) { return TAPE_RECORD_BYTES; }
