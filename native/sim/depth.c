/* The current market-data API of ProfitDLL (manual 4.0.0.30) over the simulator's V1 model:
 * SetTradeCallbackV2 / SetHistoryTradeCallbackV2 with TranslateTrade, and SubscribePriceDepth /
 * SetPriceDepthCallback with GetPriceGroup and GetPriceDepthSideCount. market.c and history.c keep
 * emitting V1 callbacks; when a V2 callback is registered, depth_route() puts an adapter in the V1
 * slot, so every event goes to exactly one generation. The adapter keeps the DLL's copy of each
 * price depth (the fold of the events it delivered), which GetPriceGroup reads, from inside the
 * callback or from any other thread. Built with -DSIM_V1_ONLY the V2 exports are left out: the
 * library then looks like a DLL older than 4.0.0.20, and Tape's fallback is tested on real symbol
 * lookup (docs/native.md). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "sim.h"
#include "wstr.h"

#define MAX_DEPTHS 128                /* one per listing the simulator can hold */
#define DEPTH_LEVELS (BOOK_LEVELS + 2) /* the model's levels and its spare, and one more */
#define TRADE_MAGIC 0x54524432u       /* "TRD2": what TranslateTrade accepts as pTrade */

/* What pTrade points at: the shim must read it with TranslateTrade, never cast it. */
typedef struct {
  uint32_t magic;
  TConnectorTrade trade;
} OpaqueTrade;

typedef struct {
  wchar16 ticker[TICKER_UNITS], exchange[EXCHANGE_UNITS];
  TConnectorPriceGroup level[2][DEPTH_LEVELS];
  int32_t n[2];
} Depth;

static _Atomic(TConnectorTradeCallback) tradeV2, historyTradeV2;
static _Atomic(TConnectorPriceDepthCallback) depthV2;
static _Atomic int64_t v2Trades, v2HistoryTrades, v2PriceDepths;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* guards depths */
static Depth depths[MAX_DEPTHS];
static int depthCount;
static int historyLast; /* connector thread: the history trade being sent ends its answer */
static _Atomic int32_t translateFaults, groupFaults; /* SimSetV2Fault */

static TConnectorAssetIdentifier identifier(TAssetIDRec a) {
  TConnectorAssetIdentifier id = {0, a.ticker, a.bolsa, (uint8_t)a.feed};
  return id;
}

/* Reads n digits at s; -1 when one is not a digit. */
static int digits(const wchar16 *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* The V1 date text (DD/MM/YYYY HH:MM:SS.ZZZ) as the TSystemTime of a TConnectorTrade. Anything
 * else, an injected bad date included, becomes the zero SYSTEMTIME: a date no one can mistake for
 * a real one, which Tape dead-letters. Day and month ranges are not checked here, on purpose. */
static void to_systemtime(const wchar16 *date, TSystemTime *t) {
  memset(t, 0, sizeof *t);
  static const char shape[] = "00/00/0000 00:00:00.000";
  if (wlen(date) != sizeof shape - 1) return;
  for (size_t i = 0; i < sizeof shape - 1; i++)
    if (shape[i] != '0' && date[i] != (wchar16)shape[i]) return;
  int f[7] = {digits(date, 2),      digits(date + 3, 2),  digits(date + 6, 4), digits(date + 11, 2),
              digits(date + 14, 2), digits(date + 17, 2), digits(date + 20, 3)};
  for (int i = 0; i < 7; i++)
    if (f[i] < 0) return;
  int y = f[2], m = f[1], d = f[0];
  /* Sakamoto's day of the week (0 = Sunday), as SYSTEMTIME has it. */
  static const int k[12] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  int yy = m < 3 ? y - 1 : y;
  int dow = m >= 1 && m <= 12 ? (yy + yy / 4 - yy / 100 + yy / 400 + k[m - 1] + d) % 7 : 0;
  *t = (TSystemTime){(uint16_t)y, (uint16_t)m, (uint16_t)dow, (uint16_t)d,
                     (uint16_t)f[3], (uint16_t)f[4], (uint16_t)f[5], (uint16_t)f[6]};
}

static void send_trade(int history, TAssetIDRec asset, const wchar16 *date, uint32_t number, double price,
                       double volume, int32_t qty, int32_t buy, int32_t sell, int32_t type, uint32_t flags) {
  TConnectorTradeCallback cb = atomic_load(history ? &historyTradeV2 : &tradeV2);
  if (!cb) return;
  OpaqueTrade t = {TRADE_MAGIC, {0}};
  to_systemtime(date, &t.trade.tradeDate);
  t.trade.tradeNumber = number;
  t.trade.price = price;
  t.trade.quantity = qty;
  t.trade.volume = volume;
  t.trade.buyAgent = buy;
  t.trade.sellAgent = sell;
  t.trade.tradeType = (uint8_t)type;
  cb(identifier(asset), &t, flags);
  atomic_fetch_add_explicit(history ? &v2HistoryTrades : &v2Trades, 1, memory_order_relaxed);
}

static void PDLL_CALL live_trade(TAssetIDRec asset, const wchar16 *date, uint32_t number, double price,
                                 double volume, int32_t qty, int32_t buy, int32_t sell, int32_t type, uint8_t edit) {
  send_trade(0, asset, date, number, price, volume, qty, buy, sell, type, edit ? TC_IS_EDIT : 0);
}

static void PDLL_CALL history_trade(TAssetIDRec asset, const wchar16 *date, uint32_t number, double price,
                                    double volume, int32_t qty, int32_t buy, int32_t sell, int32_t type) {
  send_trade(1, asset, date, number, price, volume, qty, buy, sell, type, historyLast ? TC_LAST_PACKET : 0);
}

static void history_mark(int last) { historyLast = last; }

/* The depth of a ticker (caller holds mu); NULL when there is none and `add` is 0 or no room. */
static Depth *depth_of(const wchar16 *ticker, const wchar16 *exchange, int add) {
  for (int i = 0; i < depthCount; i++)
    if (weq(depths[i].ticker, ticker) && weq(depths[i].exchange, exchange)) return &depths[i];
  if (!add || depthCount == MAX_DEPTHS || !wlen(ticker) || !wlen(exchange)) return NULL;
  Depth *d = &depths[depthCount++];
  memset(d, 0, sizeof *d);
  wcopy(d->ticker, ticker, TICKER_UNITS);
  wcopy(d->exchange, exchange, EXCHANGE_UNITS);
  return d;
}

/* Applies one V1 book event to the copy, as Tape's book applies it (sync-server/market/book.ts). */
static void depth_apply(Depth *d, int32_t action, int32_t position, int32_t side, int32_t qty, int32_t count,
                        double price) {
  if (side != SIDE_BUY && side != SIDE_SELL) return;
  TConnectorPriceGroup *l = d->level[side];
  int32_t *n = &d->n[side];
  TConnectorPriceGroup g = {0, price, (uint32_t)count, qty, 0};
  if (action == BOOK_ADD && position >= 0 && position <= *n) {
    int32_t keep = *n < DEPTH_LEVELS ? *n : DEPTH_LEVELS - 1; /* the deepest level falls off when full */
    memmove(&l[position + 1], &l[position], (size_t)(keep - position) * sizeof *l);
    l[position] = g;
    *n = keep + 1;
  } else if (action == BOOK_EDIT && position >= 0 && position < *n) {
    l[position] = g;
  } else if (action == BOOK_DELETE && position >= 0 && position < *n) {
    memmove(&l[position], &l[position + 1], (size_t)(*n - position - 1) * sizeof *l);
    (*n)--;
  } else if (action == BOOK_DELETE_FROM && position >= 0 && position < *n) {
    memmove(&l[0], &l[position + 1], (size_t)(*n - position - 1) * sizeof *l);
    *n -= position + 1;
  }
}

static void PDLL_CALL price_depth(TAssetIDRec asset, int32_t action, int32_t position, int32_t side, int32_t qty,
                                  int32_t count, double price, void *arraySell, void *arrayBuy) {
  (void)arraySell;
  (void)arrayBuy;
  TConnectorPriceDepthCallback cb = atomic_load(&depthV2);
  if (!cb) return;
  pthread_mutex_lock(&mu);
  Depth *d = depth_of(asset.ticker, asset.bolsa, 1);
  if (d) depth_apply(d, action, position, side, qty, count, price);
  pthread_mutex_unlock(&mu); /* before the callback: it reads the copy with GetPriceGroup */
  cb(identifier(asset), (uint8_t)side, position, (uint8_t)action);
  atomic_fetch_add_explicit(&v2PriceDepths, 1, memory_order_relaxed);
}

TNewTradeCallback depth_trade(TNewTradeCallback v1) { return atomic_load(&tradeV2) ? live_trade : v1; }

void depth_route(Emitter *e) {
  e->trade = depth_trade(e->trade);
  if (atomic_load(&depthV2)) e->priceBook = price_depth;
}

void depth_route_history(HistoryOut *out) {
  if (!atomic_load(&historyTradeV2)) return;
  out->trade = history_trade;
  out->mark = history_mark;
}

void depth_snapshot(const wchar16 *ticker, const wchar16 *exchange) {
  pthread_mutex_lock(&mu);
  Depth *d = depth_of(ticker, exchange, 0);
  if (d) d->n[SIDE_BUY] = d->n[SIDE_SELL] = 0;
  pthread_mutex_unlock(&mu);
}

void depth_finalized(void) {
  atomic_store(&tradeV2, NULL);
  atomic_store(&historyTradeV2, NULL);
  atomic_store(&depthV2, NULL);
  atomic_store(&v2Trades, 0);
  atomic_store(&v2HistoryTrades, 0);
  atomic_store(&v2PriceDepths, 0);
  atomic_store(&translateFaults, 0);
  atomic_store(&groupFaults, 0);
  pthread_mutex_lock(&mu);
  depthCount = 0;
  pthread_mutex_unlock(&mu);
}

/* Simulator control, in both builds: V2 deliveries since the last DLLFinalize (SimGetStats counts
 * every delivery of either generation). */
typedef struct {
  int64_t trades, historyTrades, priceDepths;
} SimV2Stats;

PDLL_EXPORT int32_t SimGetV2Stats(SimV2Stats *out) {
  if (!out) return NL_INVALID_ARGS;
  *out = (SimV2Stats){atomic_load(&v2Trades), atomic_load(&v2HistoryTrades), atomic_load(&v2PriceDepths)};
  return NL_OK;
}

/* Simulator control: the next `translate` TranslateTrade calls and the next `group` GetPriceGroup
 * calls fail with NL_INTERNAL_ERROR, so tests see what the shim makes of a read the DLL refuses. */
PDLL_EXPORT int32_t SimSetV2Fault(int32_t translate, int32_t group) {
  if (translate < 0 || group < 0) return NL_INVALID_ARGS;
  atomic_store(&translateFaults, translate);
  atomic_store(&groupFaults, group);
  return NL_OK;
}

#ifndef SIM_V1_ONLY
/* 1 when a fault was asked for this call (and counts it off). */
static int take_fault(_Atomic int32_t *faults) {
  for (int32_t n = atomic_load(faults); n > 0;)
    if (atomic_compare_exchange_weak(faults, &n, n - 1)) return 1;
  return 0;
}

PDLL_EXPORT int32_t PDLL_CALL SetTradeCallbackV2(TConnectorTradeCallback cb) {
  atomic_store(&tradeV2, cb);
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL SetHistoryTradeCallbackV2(TConnectorTradeCallback cb) {
  atomic_store(&historyTradeV2, cb);
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL SetPriceDepthCallback(TConnectorPriceDepthCallback cb) {
  atomic_store(&depthV2, cb);
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL TranslateTrade(void *trade, TConnectorTrade *out) {
  const OpaqueTrade *t = trade;
  if (!t || !out || t->magic != TRADE_MAGIC) return NL_INVALID_ARGS;
  if (take_fault(&translateFaults)) return NL_INTERNAL_ERROR;
  *out = t->trade;
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL SubscribePriceDepth(const TConnectorAssetIdentifier *asset) {
  return asset ? SubscribePriceBook(asset->ticker, asset->exchange) : NL_INVALID_ARGS;
}

PDLL_EXPORT int32_t PDLL_CALL UnsubscribePriceDepth(const TConnectorAssetIdentifier *asset) {
  return asset ? UnsubscribePriceBook(asset->ticker, asset->exchange) : NL_INVALID_ARGS;
}

PDLL_EXPORT int32_t PDLL_CALL GetPriceDepthSideCount(const TConnectorAssetIdentifier *asset, uint8_t side) {
  if (!asset || side > SIDE_SELL) return NL_INVALID_ARGS;
  pthread_mutex_lock(&mu);
  const Depth *d = depth_of(asset->ticker, asset->exchange, 0);
  int32_t n = d ? d->n[side] : 0;
  pthread_mutex_unlock(&mu);
  return n;
}

PDLL_EXPORT int32_t PDLL_CALL GetPriceGroup(const TConnectorAssetIdentifier *asset, uint8_t side, int32_t position,
                                            TConnectorPriceGroup *out) {
  if (!asset || !out || side > SIDE_SELL) return NL_INVALID_ARGS;
  if (take_fault(&groupFaults)) return NL_INTERNAL_ERROR;
  pthread_mutex_lock(&mu);
  const Depth *d = depth_of(asset->ticker, asset->exchange, 0);
  int32_t rc = !d ? NL_NOT_FOUND : position < 0 || position >= d->n[side] ? NL_OUT_OF_RANGE : NL_OK;
  if (rc == NL_OK) *out = d->level[side][position];
  pthread_mutex_unlock(&mu);
  return rc;
}
#endif
