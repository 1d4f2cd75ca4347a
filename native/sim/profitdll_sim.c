/* ProfitDLL simulator: the real DLL's exports (names, argument order, types, return codes)
 * with a random-walk B3 market behind them, for Linux development and tests. One generator
 * thread plays the DLL's ConnectorThread: every callback comes from it. Sim* exports are
 * simulator-only controls; the binding looks them up optionally. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../include/profitdll.h"

#define MAX_TICKERS 64
#define MAX_INJECT 4096

typedef struct {
  wchar16 ticker[16];
  wchar16 exchange[4];
  double tick;
  int32_t lot;
  int64_t priceTicks;
  uint32_t tradeNumber;
  int subscribed;
  int bookSubscribed;
} Instrument;

typedef struct {
  wchar16 ticker[16], exchange[4], date[32];
  uint32_t tradeNumber;
  double price;
  int32_t qty, tradeType;
} Injected;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t thread;
static volatile int running;
static int loggedIn;
static int routing;
static int badPassword;
static double rate = 20.0; /* trade events per second per subscribed ticker */
static long long burstRemaining;
static Instrument instruments[MAX_TICKERS];
static int instrumentCount;
static Injected injected[MAX_INJECT];
static int injectedCount;
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static TStateCallback stateCb;
static TNewTradeCallback tradeCb;
static TNewDailyCallback dailyCb;
static TTinyBookCallback tinyBookCb;
static TInvalidTickerCallback invalidTickerCb;

static uint64_t next_rand(void) { /* xorshift64*: only the generator thread draws */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

static size_t wlen(const wchar16 *s) {
  size_t n = 0;
  while (s && s[n]) n++;
  return n;
}

static int weq(const wchar16 *a, const wchar16 *b) {
  size_t n = wlen(a);
  return n == wlen(b) && memcmp(a, b, n * 2) == 0;
}

static void wcopy(wchar16 *dst, const wchar16 *src, size_t units) {
  size_t n = 0;
  for (; src && src[n] && n + 1 < units; n++) dst[n] = src[n];
  dst[n] = 0;
}

static void wfrom(wchar16 *dst, const char *src, size_t units) {
  size_t n = 0;
  for (; src[n] && n + 1 < units; n++) dst[n] = (wchar16)(unsigned char)src[n];
  dst[n] = 0;
}

static void add_instrument(const wchar16 *ticker, const wchar16 *exchange, double tick, int32_t lot, double price) {
  for (int i = 0; i < instrumentCount; i++)
    if (weq(instruments[i].ticker, ticker)) {
      instruments[i].tick = tick;
      instruments[i].lot = lot;
      instruments[i].priceTicks = llround(price / tick);
      return;
    }
  if (instrumentCount == MAX_TICKERS) return;
  Instrument *in = &instruments[instrumentCount++];
  memset(in, 0, sizeof *in);
  wcopy(in->ticker, ticker, 16);
  wcopy(in->exchange, exchange, 4);
  in->tick = tick;
  in->lot = lot;
  in->priceTicks = llround(price / tick);
}

static void defaults(void) {
  static const struct { const char *t, *e; double tick; int lot; double price; } d[] = {
      {"PETR4", "B", 0.01, 100, 38.50}, {"VALE3", "B", 0.01, 100, 62.00},  {"ITUB4", "B", 0.01, 100, 33.00},
      {"BBDC4", "B", 0.01, 100, 14.00}, {"WINZ25", "F", 5, 1, 128000},     {"WDOZ25", "F", 0.5, 1, 5400},
  };
  if (instrumentCount > 0) return;
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
    wchar16 t[16], e[4];
    wfrom(t, d[i].t, 16);
    wfrom(e, d[i].e, 4);
    add_instrument(t, e, d[i].tick, d[i].lot, d[i].price);
  }
}

/* B3 prints Brasília time (UTC-3, no daylight saving since 2019). */
static void b3_date(wchar16 *out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  time_t secs = ts.tv_sec - 3 * 3600;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  snprintf(buf, sizeof buf, "%02d/%02d/%04d %02d:%02d:%02d.%03ld", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000));
  wfrom(out, buf, 32);
}

static void emit_trade(Instrument *in, const wchar16 *date) {
  int step = (int)(next_rand() % 3) - 1;
  if (in->priceTicks + step > 0) in->priceTicks += step;
  int32_t qty = in->lot * (int32_t)(1 + next_rand() % 10);
  double price = (double)in->priceTicks * in->tick;
  TAssetIDRec a = {in->ticker, in->exchange, 0};
  tradeCb(a, date, ++in->tradeNumber, price, price * qty, qty, (int32_t)(next_rand() % 100),
          (int32_t)(next_rand() % 100), (int32_t)(1 + next_rand() % 2), 0);
  if (in->bookSubscribed && tinyBookCb) {
    tinyBookCb(a, price - in->tick, in->lot * (int32_t)(1 + next_rand() % 50), 0);
    tinyBookCb(a, price + in->tick, in->lot * (int32_t)(1 + next_rand() % 50), 1);
  }
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void *connector_thread(void *arg) {
  (void)arg;
  /* The state sequence the real DLL reports after a login. */
  if (stateCb) {
    if (badPassword) {
      stateCb(CONN_LOGIN, 2);
      return NULL;
    }
    stateCb(CONN_LOGIN, 0);
    if (routing) {
      stateCb(CONN_ROUTING, 1);
      stateCb(CONN_ROUTING, 2);
      stateCb(CONN_ROUTING, 4);
      stateCb(CONN_ROUTING, 5);
    }
    stateCb(CONN_MARKET_DATA, 1);
    sleep_ms(2);
    stateCb(CONN_MARKET_DATA, 2);
    stateCb(CONN_MARKET_LOGIN, 0);
    sleep_ms(2);
    stateCb(CONN_MARKET_DATA, 4);
  }
  double credit = 0;
  struct timespec last;
  clock_gettime(CLOCK_MONOTONIC, &last);
  wchar16 date[32];
  while (running) {
    pthread_mutex_lock(&mu);
    b3_date(date);
    for (int i = 0; i < injectedCount && tradeCb; i++) {
      Injected *j = &injected[i];
      TAssetIDRec a = {j->ticker, j->exchange, 0};
      tradeCb(a, j->date, j->tradeNumber, j->price, j->price * j->qty, j->qty, 1, 2, j->tradeType, 0);
    }
    injectedCount = 0;
    int subs[MAX_TICKERS], n = 0;
    for (int i = 0; i < instrumentCount; i++)
      if (instruments[i].subscribed) subs[n++] = i;
    if (burstRemaining > 0 && n > 0 && tradeCb) {
      /* As fast as possible: a benchmark's burst. */
      long long chunk = burstRemaining < 4096 ? burstRemaining : 4096;
      for (long long k = 0; k < chunk; k++) emit_trade(&instruments[subs[k % n]], date);
      burstRemaining -= chunk;
      pthread_mutex_unlock(&mu);
      continue;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9;
    last = now;
    credit += dt * rate;
    if (credit > rate) credit = rate; /* never catch up more than a second after a stall */
    while (credit >= 1 && n > 0 && tradeCb) {
      for (int i = 0; i < n; i++) emit_trade(&instruments[subs[(int)(next_rand() % (uint64_t)n)]], date);
      credit -= 1;
    }
    pthread_mutex_unlock(&mu);
    sleep_ms(1);
  }
  return NULL;
}

static int32_t start_login(const wchar16 *key, const wchar16 *user, const wchar16 *password, TStateCallback state,
                           TNewTradeCallback trade, TNewDailyCallback daily, TTinyBookCallback tiny, int withRouting) {
  if (!key || wlen(key) == 0) return NL_INVALID_ARGS;
  if (!user || wlen(user) == 0) return NL_NO_USER;
  if (!password || wlen(password) == 0) return NL_NO_PASSWORD;
  pthread_mutex_lock(&mu);
  if (loggedIn) {
    pthread_mutex_unlock(&mu);
    return NL_DUPLICATE_RESOURCE;
  }
  defaults();
  wchar16 wrong[8];
  wfrom(wrong, "wrong", 8);
  badPassword = weq(password, wrong);
  stateCb = state;
  tradeCb = trade;
  dailyCb = daily;
  tinyBookCb = tiny;
  routing = withRouting;
  loggedIn = 1;
  running = 1;
  for (int i = 0; i < instrumentCount; i++) instruments[i].subscribed = instruments[i].bookSubscribed = 0;
  burstRemaining = 0;
  injectedCount = 0;
  pthread_mutex_unlock(&mu);
  if (pthread_create(&thread, NULL, connector_thread, NULL) != 0) {
    loggedIn = 0;
    return NL_INTERNAL_ERROR;
  }
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL DLLInitializeLogin(const wchar16 *key, const wchar16 *user, const wchar16 *password,
                                                 TStateCallback state, void *history, void *orderChange, void *account,
                                                 TNewTradeCallback newTrade, TNewDailyCallback newDaily,
                                                 void *priceBook, void *offerBook, void *historyTrade, void *progress,
                                                 TTinyBookCallback tinyBook) {
  (void)history, (void)orderChange, (void)account, (void)priceBook, (void)offerBook, (void)historyTrade;
  (void)progress;
  return start_login(key, user, password, state, newTrade, newDaily, tinyBook, 1);
}

PDLL_EXPORT int32_t PDLL_CALL DLLInitializeMarketLogin(const wchar16 *key, const wchar16 *user,
                                                       const wchar16 *password, TStateCallback state,
                                                       TNewTradeCallback newTrade, TNewDailyCallback newDaily,
                                                       void *priceBook, void *offerBook, void *historyTrade,
                                                       void *progress, TTinyBookCallback tinyBook) {
  (void)priceBook, (void)offerBook, (void)historyTrade, (void)progress;
  return start_login(key, user, password, state, newTrade, newDaily, tinyBook, 0);
}

PDLL_EXPORT int32_t PDLL_CALL DLLFinalize(void) {
  pthread_mutex_lock(&mu);
  int was = loggedIn;
  running = 0;
  pthread_mutex_unlock(&mu);
  if (!was) return NL_NOT_INITIALIZED;
  pthread_join(thread, NULL);
  pthread_mutex_lock(&mu);
  loggedIn = 0;
  stateCb = NULL;
  tradeCb = NULL;
  dailyCb = NULL;
  tinyBookCb = NULL;
  pthread_mutex_unlock(&mu);
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL SetServerAndPort(const wchar16 *server, const wchar16 *port) {
  return server && port ? NL_OK : NL_INVALID_ARGS;
}

PDLL_EXPORT int32_t PDLL_CALL SetInvalidTickerCallback(TInvalidTickerCallback cb) {
  pthread_mutex_lock(&mu);
  invalidTickerCb = cb;
  pthread_mutex_unlock(&mu);
  return NL_OK;
}

static int32_t set_subscription(const wchar16 *ticker, const wchar16 *exchange, int book, int on) {
  if (!ticker || !exchange || wlen(ticker) == 0) return NL_INVALID_ARGS;
  pthread_mutex_lock(&mu);
  if (!loggedIn) {
    pthread_mutex_unlock(&mu);
    return NL_NOT_INITIALIZED;
  }
  for (int i = 0; i < instrumentCount; i++) {
    Instrument *in = &instruments[i];
    if (weq(in->ticker, ticker) && weq(in->exchange, exchange)) {
      if (book) in->bookSubscribed = on;
      else in->subscribed = on;
      pthread_mutex_unlock(&mu);
      return NL_OK;
    }
  }
  TInvalidTickerCallback cb = invalidTickerCb;
  pthread_mutex_unlock(&mu);
  if (cb && on) {
    TAssetIDRec a = {ticker, exchange, 0};
    cb(a);
  }
  return NL_INVALID_TICKER;
}

PDLL_EXPORT int32_t PDLL_CALL SubscribeTicker(const wchar16 *t, const wchar16 *e) { return set_subscription(t, e, 0, 1); }
PDLL_EXPORT int32_t PDLL_CALL UnsubscribeTicker(const wchar16 *t, const wchar16 *e) { return set_subscription(t, e, 0, 0); }
PDLL_EXPORT int32_t PDLL_CALL SubscribePriceBook(const wchar16 *t, const wchar16 *e) { return set_subscription(t, e, 1, 1); }
PDLL_EXPORT int32_t PDLL_CALL UnsubscribePriceBook(const wchar16 *t, const wchar16 *e) { return set_subscription(t, e, 1, 0); }

PDLL_EXPORT int32_t PDLL_CALL FreePointer(void *p, int32_t size) {
  (void)size;
  free(p);
  return NL_OK;
}

/* ---- simulator-only controls ---- */

PDLL_EXPORT int32_t SimSetRate(double eventsPerSecondPerTicker) {
  if (!(eventsPerSecondPerTicker >= 0) || eventsPerSecondPerTicker > 1e7) return NL_INVALID_ARGS;
  pthread_mutex_lock(&mu);
  rate = eventsPerSecondPerTicker;
  pthread_mutex_unlock(&mu);
  return NL_OK;
}

PDLL_EXPORT int32_t SimAddTicker(const wchar16 *ticker, const wchar16 *exchange, double tickSize, int32_t lotSize,
                                 double startPrice) {
  if (!ticker || !exchange || wlen(ticker) == 0 || wlen(ticker) > 15 || !(tickSize > 0) || lotSize < 1 ||
      !(startPrice > 0))
    return NL_INVALID_ARGS;
  pthread_mutex_lock(&mu);
  defaults();
  add_instrument(ticker, exchange, tickSize, lotSize, startPrice);
  pthread_mutex_unlock(&mu);
  return NL_OK;
}

/* Emits `count` trades across the subscribed tickers as fast as the thread can; returns at once. */
PDLL_EXPORT int32_t SimBurst(int64_t count) {
  if (count < 0) return NL_INVALID_ARGS;
  pthread_mutex_lock(&mu);
  burstRemaining += count;
  pthread_mutex_unlock(&mu);
  return NL_OK;
}

PDLL_EXPORT int64_t SimBurstPending(void) {
  pthread_mutex_lock(&mu);
  int64_t n = burstRemaining;
  pthread_mutex_unlock(&mu);
  return n;
}

/* Makes the connector thread deliver a trade with exactly these values, valid or not. */
PDLL_EXPORT int32_t SimInjectTrade(const wchar16 *ticker, const wchar16 *exchange, const wchar16 *date, double price,
                                   int32_t qty, uint32_t tradeNumber, int32_t tradeType) {
  pthread_mutex_lock(&mu);
  if (injectedCount == MAX_INJECT) {
    pthread_mutex_unlock(&mu);
    return NL_OUT_OF_RANGE;
  }
  Injected *j = &injected[injectedCount++];
  /* Deliberately no validation: tests send garbage through the real callback path. */
  memset(j, 0, sizeof *j);
  wcopy(j->ticker, ticker, 16);
  wcopy(j->exchange, exchange, 4);
  wcopy(j->date, date, 32);
  j->price = price;
  j->qty = qty;
  j->tradeNumber = tradeNumber;
  j->tradeType = tradeType;
  pthread_mutex_unlock(&mu);
  return NL_OK;
}
