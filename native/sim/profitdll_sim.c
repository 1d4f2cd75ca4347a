/* ProfitDLL simulator: the real DLL's exports (names, argument order, types, return codes) with
 * a random-walk B3 market behind them, for Linux development and tests (docs/native.md). One
 * connector thread plays the DLL's ConnectorThread: every callback comes from it, never from
 * the caller's thread. Sim* exports are simulator-only controls the binding looks up optionally.
 * Order routing lives in orders.c and GetHistoryTrades in history.c (sim.h), both driven from
 * connector_step() like the market. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "wstr.h"

#define MAX_TICKERS 128
#define MAX_PENDING 65536
#define BURST_CHUNK 4096
#define STATE_STEP_MS 3
#define ACTIVE_TICK_MS 1
#define IDLE_TICK_MS 50
#define DEFAULT_RATE 20.0
#define MAX_RATE 1e7
#define MAX_CLOCK_MS 253402300799999LL /* 31/12/9999 23:59:59.999 UTC */

/* A tradable instrument. Config fields are guarded by sim.mu; the subscription flags are
 * atomics so the connector thread reads them without the lock. */
typedef struct {
  wchar16 ticker[TICKER_UNITS];
  wchar16 exchange[EXCHANGE_UNITS];
  double tick;
  int32_t lot;
  double startPrice;
  uint32_t generation; /* bumped when SimAddTicker changes it: the thread re-seeds its market */
  _Atomic int quotes, priceBook, offerBook;
} Listing;

enum { SUB_QUOTES, SUB_PRICE_BOOK, SUB_OFFER_BOOK };

/* Events callers ask for, delivered by the connector thread on its next step. */
typedef enum { PENDING_TRADE, PENDING_INVALID_TICKER, PENDING_TICKER_STATE, PENDING_ROUTING_STATE } PendingKind;
typedef struct Pending {
  struct Pending *next;
  PendingKind kind;
  wchar16 *ticker, *exchange, *date; /* heap copies; NULL is delivered as NULL */
  int32_t feed, qty, buyAgent, sellAgent, tradeType, state;
  uint32_t tradeNumber;
  double price, volume;
  uint8_t isEdit;
} Pending;

typedef struct {
  TStateCallback state;
  THistoryCallback history;
  TOrderChangeCallback orderChange;
  TAccountCallback account;
  TNewTradeCallback trade;
  TNewDailyCallback daily;
  TPriceBookCallback priceBook;
  TOfferBookCallback offerBook;
  THistoryTradeCallback historyTrade;
  TProgressCallback progress;
  TTinyBookCallback tinyBook;
} Callbacks;

enum { LOGIN_NONE, LOGIN_PENDING, LOGIN_OK, LOGIN_BAD_PASSWORD, LOGIN_BAD_KEY };

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake; /* CLOCK_MONOTONIC; signalled on anything the connector thread must see */
  pthread_t thread;
  /* guarded by mu */
  Listing listings[MAX_TICKERS];
  int listingCount;
  int initialized, stop, routing;
  uint32_t session; /* bumped at every login: history requests of an older one are dropped */
  double rate; /* trades per second per active instrument */
  int64_t burstRemaining;
  Pending *head, *tail;
  int pendingCount;
  /* set before the thread starts, read-only while it runs */
  Callbacks cb;
  int badPassword, badKey;
  uint64_t seed;
  /* shared without the lock */
  _Atomic(TInvalidTickerCallback) invalidTicker;
  _Atomic(TChangeStateTicker) tickerState;
  _Atomic int login;
  _Atomic int brokerConnected;
  _Atomic int brokerDown; /* SimSetRoutingState: the broker connection dropped (any state but 5) */
  _Atomic int64_t clockOffsetMs; /* SimSetClock: the simulator's clock minus the real one */
  SimCounters counters;
} sim = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Connector-thread-private state, reset when the thread starts. */
static Market markets[MAX_TICKERS];
static uint32_t marketGeneration[MAX_TICKERS];
static int seen[MAX_TICKERS][3];
static double credit[MAX_TICKERS];
static int64_t lastDailyNs[MAX_TICKERS];
static int64_t liveStartMs[MAX_TICKERS]; /* sim_b3_ms when the listing's live market began; 0 = not yet */
static uint64_t rng;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void add_listing(const wchar16 *ticker, const wchar16 *exchange, double tick, int32_t lot, double price);

static void init_once(void) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&sim.wake, &attr);
  pthread_condattr_destroy(&attr);
  sim.rate = DEFAULT_RATE;
  const char *env = getenv("TAPE_SIM_RATE");
  char *end = NULL;
  double r = env ? strtod(env, &end) : NAN;
  if (env && end != env && *end == 0 && r >= 0 && r <= MAX_RATE) sim.rate = r;
  static const struct {
    const char *ticker, *exchange;
    double tick;
    int32_t lot;
    double price;
  } defaults[] = {
      {"PETR4", "B", 0.01, 100, 38.50},  {"VALE3", "B", 0.01, 100, 62.00}, {"ITUB4", "B", 0.01, 100, 33.00},
      {"BBDC4", "B", 0.01, 100, 14.00},  {"WINZ25", "F", 5, 1, 128000},    {"WDOZ25", "F", 0.5, 1, 5400},
  };
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
    wchar16 t[TICKER_UNITS], e[EXCHANGE_UNITS];
    wfrom_ascii(t, defaults[i].ticker, TICKER_UNITS);
    wfrom_ascii(e, defaults[i].exchange, EXCHANGE_UNITS);
    add_listing(t, e, defaults[i].tick, defaults[i].lot, defaults[i].price);
  }
}

static void lock(void) {
  pthread_once(&once, init_once);
  pthread_mutex_lock(&sim.mu);
}
static void unlock(void) { pthread_mutex_unlock(&sim.mu); }

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Waits up to ms for a signal (caller holds mu); returns whether the session is stopping. */
static int wait_locked(long ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += (ms % 1000) * 1000000L;
  ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
  ts.tv_nsec %= 1000000000L;
  if (!sim.stop) pthread_cond_timedwait(&sim.wake, &sim.mu, &ts);
  return sim.stop;
}

static int pause_ms(long ms) {
  lock();
  int64_t until = mono_ns() + ms * 1000000LL;
  int stop = sim.stop;
  while (!stop && mono_ns() < until) stop = wait_locked(ms);
  unlock();
  return stop;
}

/* Caller holds mu. */
static int find_listing(const wchar16 *ticker, const wchar16 *exchange) {
  for (int i = 0; i < sim.listingCount; i++)
    if (weq(sim.listings[i].ticker, ticker) && weq(sim.listings[i].exchange, exchange)) return i;
  return -1;
}

static int known_exchange(const wchar16 *exchange) {
  if (weq_ascii(exchange, "B") || weq_ascii(exchange, "F")) return 1;
  for (int i = 0; i < sim.listingCount; i++)
    if (weq(sim.listings[i].exchange, exchange)) return 1;
  return 0;
}

static void add_listing(const wchar16 *ticker, const wchar16 *exchange, double tick, int32_t lot, double price) {
  int i = find_listing(ticker, exchange);
  Listing *l = &sim.listings[i >= 0 ? i : sim.listingCount];
  if (i < 0) {
    wcopy(l->ticker, ticker, TICKER_UNITS);
    wcopy(l->exchange, exchange, EXCHANGE_UNITS);
    sim.listingCount++;
  }
  l->tick = tick;
  l->lot = lot;
  l->startPrice = price;
  l->generation++;
}

static _Atomic int *subscription_flag(Listing *l, int which) {
  return which == SUB_QUOTES ? &l->quotes : which == SUB_PRICE_BOOK ? &l->priceBook : &l->offerBook;
}

static void free_pending(Pending *p) {
  while (p) {
    Pending *next = p->next;
    free(p->ticker);
    free(p->exchange);
    free(p->date);
    free(p);
    p = next;
  }
}

/* Queues an event for the connector thread (caller holds mu); takes ownership of p. */
static int32_t enqueue_locked(Pending *p) {
  if (sim.pendingCount >= MAX_PENDING) {
    free_pending(p);
    return NL_OUT_OF_RANGE;
  }
  p->next = NULL;
  if (sim.tail) sim.tail->next = p;
  else sim.head = p;
  sim.tail = p;
  sim.pendingCount++;
  pthread_cond_signal(&sim.wake);
  return NL_OK;
}

/* A pending event with copies of the caller's strings, or NULL when memory ran out. */
static Pending *new_pending(PendingKind kind, const wchar16 *ticker, const wchar16 *exchange, const wchar16 *date) {
  Pending *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->kind = kind;
  p->ticker = wdup(ticker);
  p->exchange = wdup(exchange);
  p->date = wdup(date);
  if ((ticker && !p->ticker) || (exchange && !p->exchange) || (date && !p->date)) {
    free_pending(p);
    return NULL;
  }
  return p;
}

/* What a market-data request gets while a session is in this state (caller holds mu). */
static int32_t session_code_locked(void) {
  if (!sim.initialized) return NL_NOT_INITIALIZED;
  switch (atomic_load(&sim.login)) {
  case LOGIN_BAD_PASSWORD: return NL_NO_LOGIN;
  case LOGIN_BAD_KEY: return NL_NO_LICENSE;
  default: return NL_OK;
  }
}

int sim_broker_connected(void) { return atomic_load(&sim.brokerConnected); }

int sim_broker_up(void) { return !atomic_load(&sim.brokerDown); }

/* sim_routing_status, with mu held. */
static int32_t routing_status_locked(void) {
  int32_t rc = session_code_locked();
  if (rc == NL_OK && !sim.routing) rc = NL_MARKET_ONLY;
  else if (rc == NL_OK && atomic_load(&sim.login) != LOGIN_OK) rc = NL_WAITING_SERVER;
  return rc;
}

int32_t sim_routing_status(void) {
  lock();
  int32_t rc = routing_status_locked();
  unlock();
  return rc;
}

int32_t sim_history_listing(const wchar16 *ticker, const wchar16 *exchange, SimListing *out) {
  lock();
  int32_t rc = session_code_locked();
  int i = rc == NL_OK ? find_listing(ticker, exchange) : -1;
  if (rc == NL_OK && i < 0) rc = known_exchange(exchange) ? NL_INVALID_TICKER : NL_EXCHANGE_UNKNOWN;
  if (rc == NL_OK) {
    const Listing *l = &sim.listings[i];
    out->index = i;
    wcopy(out->ticker, l->ticker, TICKER_UNITS);
    wcopy(out->exchange, l->exchange, EXCHANGE_UNITS);
    out->tick = l->tick;
    out->startPrice = l->startPrice;
    out->lot = l->lot;
    out->subscribed = atomic_load(&l->quotes);
    out->session = sim.session;
  }
  unlock();
  return rc;
}

int32_t sim_find_listing(const wchar16 *ticker, const wchar16 *exchange, double *tick, int32_t *lot) {
  lock();
  int i = find_listing(ticker, exchange);
  int32_t rc = i;
  if (i >= 0) {
    *tick = sim.listings[i].tick;
    *lot = sim.listings[i].lot;
  } else rc = known_exchange(exchange) ? NL_INVALID_TICKER : NL_EXCHANGE_UNKNOWN;
  unlock();
  return rc;
}

void sim_signal(void) {
  lock();
  pthread_cond_signal(&sim.wake);
  unlock();
}

/* ---- the connector thread ---- */

static void report_state(int32_t type, int32_t result) {
  if (!sim.cb.state) return;
  sim.cb.state(type, result);
  atomic_fetch_add_explicit(&sim.counters.states, 1, memory_order_relaxed);
}

/* The state sequence the real DLL reports after a login, a few ms apart; 0 when stopped. */
static int login_sequence(void) {
  if (sim.badPassword) {
    report_state(CONN_LOGIN, LOGIN_INVALID_PASS);
    atomic_store(&sim.login, LOGIN_BAD_PASSWORD);
    return 1;
  }
  static const int32_t routed[][2] = {
      {CONN_LOGIN, LOGIN_CONNECTED},           {CONN_ROUTING, ROUTING_CONNECTING},
      {CONN_MARKET_DATA, MARKET_CONNECTING},   {CONN_ROUTING, ROUTING_CONNECTED},
      {CONN_MARKET_DATA, MARKET_WAITING},      {CONN_ROUTING, ROUTING_BROKER_CONNECTING},
      {CONN_MARKET_LOGIN, ACTIVATION_VALID},   {CONN_ROUTING, ROUTING_BROKER_CONNECTED},
      {CONN_MARKET_DATA, MARKET_CONNECTED},
  };
  for (size_t i = 0; i < sizeof routed / sizeof routed[0]; i++) {
    int32_t type = routed[i][0], result = routed[i][1];
    if (type == CONN_ROUTING && !sim.routing) continue;
    if (type == CONN_MARKET_LOGIN && sim.badKey) result = ACTIVATION_INVALID;
    if (type == CONN_MARKET_DATA && result == MARKET_CONNECTED && sim.badKey) result = MARKET_NOT_LOGGED;
    if (i > 0 && pause_ms(STATE_STEP_MS)) return 0;
    report_state(type, result);
    if (type == CONN_ROUTING && result == ROUTING_BROKER_CONNECTED) {
      atomic_store(&sim.brokerConnected, 1);
      for (int a = 0; sim.cb.account && a < SIM_ACCOUNT_COUNT; a++) {
        const SimAccount *acc = &SIM_ACCOUNTS[a];
        wchar16 name[40], account[16], holder[40];
        wfrom_ascii(name, acc->broker, 40);
        wfrom_ascii(account, acc->account, 16);
        wfrom_ascii(holder, acc->holder, 40);
        sim.cb.account(acc->brokerId, name, account, holder);
        atomic_fetch_add_explicit(&sim.counters.accounts, 1, memory_order_relaxed);
      }
    }
  }
  atomic_store(&sim.login, sim.badKey ? LOGIN_BAD_KEY : LOGIN_OK);
  return 1;
}

static int64_t real_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000L;
}

/* B3 prints Brasília time (UTC-3, no daylight saving since 2019). */
int64_t sim_b3_ms(void) { return real_ms() + atomic_load(&sim.clockOffsetMs) - 3 * 3600 * 1000LL; }

static long b3_tm(struct tm *tm) {
  int64_t ms = sim_b3_ms();
  time_t secs = (time_t)(ms / 1000);
  gmtime_r(&secs, tm);
  return (long)(ms % 1000);
}

/* As the V1 callbacks print it: DD/MM/YYYY HH:MM:SS.ZZZ. */
static void b3_now(wchar16 out[32]) {
  struct tm tm;
  long ms = b3_tm(&tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%02d/%02d/%04d %02d:%02d:%02d.%03ld", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
           tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  wfrom_ascii(out, buf, 32);
}

void sim_b3_systemtime(TSystemTime *out) {
  struct tm tm;
  long ms = b3_tm(&tm);
  *out = (TSystemTime){(uint16_t)(tm.tm_year + 1900), (uint16_t)(tm.tm_mon + 1), (uint16_t)tm.tm_wday,
                       (uint16_t)tm.tm_mday,          (uint16_t)tm.tm_hour,    (uint16_t)tm.tm_min,
                       (uint16_t)tm.tm_sec,           (uint16_t)ms};
}

static void deliver(const Pending *p, const wchar16 *date) {
  TAssetIDRec a = {p->ticker, p->exchange, p->feed};
  TNewTradeCallback trade = depth_trade(sim.cb.trade); /* SetTradeCallbackV2's adapter when registered */
  if (p->kind == PENDING_TRADE && trade) {
    trade(a, p->date, p->tradeNumber, p->price, p->volume, p->qty, p->buyAgent, p->sellAgent, p->tradeType,
          p->isEdit);
    atomic_fetch_add_explicit(&sim.counters.trades, 1, memory_order_relaxed);
  } else if (p->kind == PENDING_INVALID_TICKER) {
    TInvalidTickerCallback cb = atomic_load(&sim.invalidTicker);
    if (!cb) return;
    TConnectorAssetIdentifier id = {0, p->ticker, p->exchange, 0};
    cb(id);
    atomic_fetch_add_explicit(&sim.counters.invalidTickers, 1, memory_order_relaxed);
  } else if (p->kind == PENDING_TICKER_STATE) {
    TChangeStateTicker cb = atomic_load(&sim.tickerState);
    if (!cb) return;
    cb(a, date, p->state);
    atomic_fetch_add_explicit(&sim.counters.tickerStates, 1, memory_order_relaxed);
  } else if (p->kind == PENDING_ROUTING_STATE) {
    report_state(CONN_ROUTING, p->state);
  }
}

/* An injected trade is a trade of its listing's market too: a well-formed one (known listing, a
 * positive price and quantity, not an edit) can trigger the broker's waiting stops. */
static void print_injected(const Pending *p, int count) {
  if (p->kind != PENDING_TRADE || p->isEdit || p->qty <= 0 || !(isfinite(p->price) && p->price > 0) || !p->ticker ||
      !p->exchange)
    return;
  for (int i = 0; i < count; i++)
    if (markets[i].tick > 0 && weq(markets[i].ticker, p->ticker) && weq(markets[i].exchange, p->exchange)) {
      market_print(&markets[i], p->price);
      return;
    }
}

typedef struct {
  double tick;
  int32_t lot;
  double startPrice;
  int reseed;
} Reseed;

/* The listing's live market begins now, where the deterministic history of today ends: its
 * trade numbers follow the history's last one and its book sits at the history's last price. */
static void start_live(int i, Market *m) {
  liveStartMs[i] = sim_b3_ms();
  history_resume(m, liveStartMs[i], &rng);
}

/* One pass of the connector thread: requested events, subscriptions, paced trading, a burst chunk. */
static void connector_step(int64_t *lastNs) {
  Reseed reseed[MAX_TICKERS];
  lock();
  int count = sim.listingCount;
  for (int i = 0; i < count; i++) {
    Listing *l = &sim.listings[i];
    reseed[i] = (Reseed){l->tick, l->lot, l->startPrice, l->generation != marketGeneration[i]};
    marketGeneration[i] = l->generation;
  }
  double rate = sim.rate;
  uint32_t session = sim.session;
  int quoted[MAX_TICKERS], nQuoted = 0;
  for (int i = 0; i < count; i++)
    if (atomic_load(&sim.listings[i].quotes)) quoted[nQuoted++] = i;
  if (nQuoted == 0) sim.burstRemaining = 0; /* a burst needs a subscribed ticker */
  /* A chunk stays counted in burstRemaining until it has been sent. */
  int64_t burst = sim.burstRemaining < BURST_CHUNK ? sim.burstRemaining : BURST_CHUNK;
  Pending *pending = sim.head;
  sim.head = sim.tail = NULL;
  sim.pendingCount = 0;
  wchar16 tickers[MAX_TICKERS][TICKER_UNITS], exchanges[MAX_TICKERS][EXCHANGE_UNITS];
  for (int i = 0; i < count; i++)
    if (reseed[i].reseed) {
      wcopy(tickers[i], sim.listings[i].ticker, TICKER_UNITS);
      wcopy(exchanges[i], sim.listings[i].exchange, EXCHANGE_UNITS);
    }
  unlock();

  wchar16 date[32];
  b3_now(date);
  for (Pending *p = pending; p; p = p->next) {
    deliver(p, date);
    print_injected(p, count);
  }
  free_pending(pending);

  int trading = atomic_load(&sim.login) == LOGIN_OK;
  int64_t now = mono_ns();
  double dt = (double)(now - *lastNs) / 1e9;
  *lastNs = now;
  Emitter e = {sim.cb.trade, sim.cb.daily, sim.cb.priceBook, sim.cb.offerBook, sim.cb.tinyBook, 0, 0, 0,
               date,         &sim.counters, &rng};
  depth_route(&e); /* V2 callbacks registered: their adapters take the V1 slots */
  for (int i = 0; i < count; i++) {
    Market *m = &markets[i];
    int want[3] = {atomic_load(&sim.listings[i].quotes), atomic_load(&sim.listings[i].priceBook),
                   atomic_load(&sim.listings[i].offerBook)};
    e.quotes = seen[i][SUB_QUOTES];
    e.priceBooks = seen[i][SUB_PRICE_BOOK];
    e.offerBooks = seen[i][SUB_OFFER_BOOK];
    int wanted = want[SUB_QUOTES] || want[SUB_PRICE_BOOK] || want[SUB_OFFER_BOOK];
    if (reseed[i].reseed) {
      if (m->tick > 0) market_clear_books(m, &e);
      market_init(m, tickers[i], exchanges[i], reseed[i].tick, reseed[i].lot, reseed[i].startPrice, &rng);
      liveStartMs[i] = 0; /* a re-seeded listing starts its day afresh */
      if (trading && wanted) start_live(i, m);
      market_snapshot_price_book(m, &e);
      market_snapshot_offer_book(m, &e);
    }
    if (!trading) continue;
    /* Nothing has been shown of this market yet (seen is all 0 until a trading step with a
     * subscription, which starts it), so it can still take up where today's history ends. */
    if (wanted && !liveStartMs[i]) start_live(i, m);
    e.quotes = want[SUB_QUOTES];
    e.priceBooks = want[SUB_PRICE_BOOK];
    e.offerBooks = want[SUB_OFFER_BOOK];
    if (want[SUB_QUOTES] && !seen[i][SUB_QUOTES]) {
      market_snapshot_quotes(m, &e);
      lastDailyNs[i] = now;
      TChangeStateTicker cb = atomic_load(&sim.tickerState);
      if (cb) {
        cb((TAssetIDRec){m->ticker, m->exchange, 0}, date, 0);
        atomic_fetch_add_explicit(&sim.counters.tickerStates, 1, memory_order_relaxed);
      }
    }
    if (want[SUB_PRICE_BOOK] && !seen[i][SUB_PRICE_BOOK]) depth_snapshot(m->ticker, m->exchange);
    if (want[SUB_PRICE_BOOK] && !seen[i][SUB_PRICE_BOOK]) market_snapshot_price_book(m, &e);
    if (want[SUB_OFFER_BOOK] && !seen[i][SUB_OFFER_BOOK]) market_snapshot_offer_book(m, &e);
    memcpy(seen[i], want, sizeof want);
    if (!want[SUB_QUOTES] && !want[SUB_PRICE_BOOK] && !want[SUB_OFFER_BOOK]) {
      credit[i] = 0;
      continue;
    }
    credit[i] += dt * rate;
    if (credit[i] > rate + 1) credit[i] = rate; /* after a stall, never catch up more than a second */
    for (; credit[i] >= 1; credit[i] -= 1) market_trade(m, &e);
    if (m->dailyDirty && now - lastDailyNs[i] >= 1000000000LL) {
      market_daily(m, &e);
      lastDailyNs[i] = now;
    }
  }
  if (trading && e.trade)
    for (int64_t k = 0; k < burst; k++) {
      int i = quoted[k % nQuoted];
      e.quotes = 1;
      market_burst_trade(&markets[i], &e);
    }
  if (burst > 0) {
    lock();
    sim.burstRemaining = sim.burstRemaining > burst ? sim.burstRemaining - burst : 0;
    unlock();
  }
  if (trading) {
    HistoryOut out = {sim.cb.historyTrade, sim.cb.progress, &sim.counters, NULL};
    depth_route_history(&out);
    history_step(&out, liveStartMs, session);
  }
  orders_step(markets, count, trading);
}

static void *connector_thread(void *arg) {
  (void)arg;
  memset(markets, 0, sizeof markets);
  memset(marketGeneration, 0, sizeof marketGeneration);
  memset(seen, 0, sizeof seen);
  memset(credit, 0, sizeof credit);
  memset(liveStartMs, 0, sizeof liveStartMs);
  rng = sim.seed;
  if (!login_sequence()) return NULL;
  int64_t last = mono_ns();
  for (int stop = 0; !stop;) {
    connector_step(&last);
    lock();
    int orders = orders_busy();
    int busy = sim.head != NULL || sim.burstRemaining > 0 || orders == 1;
    int active = busy || orders == 2 || history_busy(); /* history goes a packet a step, paced */
    for (int i = 0; i < sim.listingCount && !active; i++)
      active = atomic_load(&sim.listings[i].quotes) || atomic_load(&sim.listings[i].priceBook) ||
               atomic_load(&sim.listings[i].offerBook);
    stop = busy ? sim.stop : wait_locked(active ? ACTIVE_TICK_MS : IDLE_TICK_MS);
    unlock();
  }
  return NULL;
}

/* ---- the DLL's exports ---- */

static int32_t start_session(const wchar16 *key, const wchar16 *user, const wchar16 *password, const Callbacks *cb,
                             int routing) {
  if (!wlen(key)) return NL_INVALID_ARGS;
  if (!wlen(user)) return NL_NO_USER;
  if (!wlen(password)) return NL_NO_PASSWORD;
  orders_init(); /* the broker's journal, if any, before the session can route */
  lock();
  if (sim.initialized) {
    unlock();
    return NL_DUPLICATE_RESOURCE;
  }
  sim.cb = *cb;
  sim.routing = routing;
  sim.session++;
  sim.badPassword = weq_ascii(password, "wrong");
  sim.badKey = weq_ascii(key, "invalid");
  const char *seed = getenv("TAPE_SIM_SEED");
  sim.seed = seed && *seed ? strtoull(seed, NULL, 10) : (uint64_t)mono_ns();
  if (sim.seed == 0) sim.seed = 0x9E3779B97F4A7C15ull; /* xorshift must not start at zero */
  for (int i = 0; i < sim.listingCount; i++)
    for (int k = 0; k < 3; k++) atomic_store(subscription_flag(&sim.listings[i], k), 0);
  sim.burstRemaining = 0;
  SimCounters *c = &sim.counters;
  _Atomic int64_t *counters[] = {&c->trades,         &c->dailies,  &c->priceBooks,     &c->offerBooks,
                                 &c->tinyBooks,      &c->states,   &c->invalidTickers, &c->tickerStates,
                                 &c->accounts,       &c->historyTrades, &c->progress};
  for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) atomic_store(counters[i], 0);
  atomic_store(&sim.login, LOGIN_PENDING);
  atomic_store(&sim.brokerDown, 0);
  sim.stop = 0;
  if (pthread_create(&sim.thread, NULL, connector_thread, NULL) != 0) {
    atomic_store(&sim.login, LOGIN_NONE);
    unlock();
    return NL_INTERNAL_ERROR;
  }
  sim.initialized = 1;
  unlock();
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL DLLInitializeLogin(const wchar16 *key, const wchar16 *user, const wchar16 *password,
                                                 TStateCallback state, THistoryCallback history,
                                                 TOrderChangeCallback orderChange, TAccountCallback account,
                                                 TNewTradeCallback newTrade, TNewDailyCallback newDaily,
                                                 TPriceBookCallback priceBook, TOfferBookCallback offerBook,
                                                 THistoryTradeCallback historyTrade, TProgressCallback progress,
                                                 TTinyBookCallback tinyBook) {
  Callbacks cb = {state,    history,   orderChange,  account,  newTrade, newDaily,
                  priceBook, offerBook, historyTrade, progress, tinyBook};
  return start_session(key, user, password, &cb, 1);
}

PDLL_EXPORT int32_t PDLL_CALL DLLInitializeMarketLogin(const wchar16 *key, const wchar16 *user,
                                                       const wchar16 *password, TStateCallback state,
                                                       TNewTradeCallback newTrade, TNewDailyCallback newDaily,
                                                       TPriceBookCallback priceBook, TOfferBookCallback offerBook,
                                                       THistoryTradeCallback historyTrade,
                                                       TProgressCallback progress, TTinyBookCallback tinyBook) {
  Callbacks cb = {state, NULL, NULL, NULL, newTrade, newDaily, priceBook, offerBook, historyTrade, progress, tinyBook};
  return start_session(key, user, password, &cb, 0);
}

PDLL_EXPORT int32_t PDLL_CALL DLLFinalize(void) {
  lock();
  if (!sim.initialized) {
    unlock();
    return NL_NOT_INITIALIZED;
  }
  if (pthread_equal(pthread_self(), sim.thread)) { /* from inside a callback: joining would deadlock */
    unlock();
    return NL_INTERNAL_ERROR;
  }
  sim.stop = 1;
  pthread_cond_broadcast(&sim.wake);
  unlock();
  pthread_join(sim.thread, NULL);
  lock();
  free_pending(sim.head);
  sim.head = sim.tail = NULL;
  sim.pendingCount = 0;
  sim.burstRemaining = 0;
  for (int i = 0; i < sim.listingCount; i++)
    for (int k = 0; k < 3; k++) atomic_store(subscription_flag(&sim.listings[i], k), 0);
  memset(&sim.cb, 0, sizeof sim.cb);
  orders_finalized();
  history_finalized();
  depth_finalized();
  atomic_store(&sim.invalidTicker, NULL);
  atomic_store(&sim.tickerState, NULL);
  atomic_store(&sim.login, LOGIN_NONE);
  atomic_store(&sim.brokerConnected, 0);
  atomic_store(&sim.brokerDown, 0);
  sim.initialized = 0;
  unlock();
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL SetServerAndPort(const wchar16 *server, const wchar16 *port) {
  return wlen(server) && wlen(port) ? NL_OK : NL_INVALID_ARGS;
}

PDLL_EXPORT int32_t PDLL_CALL SetInvalidTickerCallback(TInvalidTickerCallback cb) {
  atomic_store(&sim.invalidTicker, cb);
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL SetChangeStateTickerCallback(TChangeStateTicker cb) {
  atomic_store(&sim.tickerState, cb);
  return NL_OK;
}

static int32_t set_subscription(const wchar16 *ticker, const wchar16 *exchange, int which, int on) {
  if (!wlen(ticker) || !wlen(exchange)) return NL_INVALID_ARGS;
  lock();
  int32_t rc = session_code_locked();
  if (rc == NL_OK) {
    int i = find_listing(ticker, exchange);
    if (i >= 0) {
      atomic_store(subscription_flag(&sim.listings[i], which), on);
      pthread_cond_signal(&sim.wake);
    } else {
      rc = known_exchange(exchange) ? NL_INVALID_TICKER : NL_EXCHANGE_UNKNOWN;
      Pending *p = on ? new_pending(PENDING_INVALID_TICKER, ticker, exchange, NULL) : NULL;
      if (p) enqueue_locked(p); /* reported from the connector thread, like the real DLL */
    }
  }
  unlock();
  return rc;
}

PDLL_EXPORT int32_t PDLL_CALL SubscribeTicker(const wchar16 *ticker, const wchar16 *exchange) {
  return set_subscription(ticker, exchange, SUB_QUOTES, 1);
}
PDLL_EXPORT int32_t PDLL_CALL UnsubscribeTicker(const wchar16 *ticker, const wchar16 *exchange) {
  return set_subscription(ticker, exchange, SUB_QUOTES, 0);
}
PDLL_EXPORT int32_t PDLL_CALL SubscribePriceBook(const wchar16 *ticker, const wchar16 *exchange) {
  return set_subscription(ticker, exchange, SUB_PRICE_BOOK, 1);
}
PDLL_EXPORT int32_t PDLL_CALL UnsubscribePriceBook(const wchar16 *ticker, const wchar16 *exchange) {
  return set_subscription(ticker, exchange, SUB_PRICE_BOOK, 0);
}
PDLL_EXPORT int32_t PDLL_CALL SubscribeOfferBook(const wchar16 *ticker, const wchar16 *exchange) {
  return set_subscription(ticker, exchange, SUB_OFFER_BOOK, 1);
}
PDLL_EXPORT int32_t PDLL_CALL UnsubscribeOfferBook(const wchar16 *ticker, const wchar16 *exchange) {
  return set_subscription(ticker, exchange, SUB_OFFER_BOOK, 0);
}

/* GetLastDailyClose: the listing's previous session close. The simulator's day opens at its
 * reference price (the one the daily's limits are set around), so that is the previous close;
 * `adjusted` (the settlement-adjusted close of futures) gives the same number here. */
PDLL_EXPORT int32_t PDLL_CALL GetLastDailyClose(const wchar16 *ticker, const wchar16 *exchange, double *close,
                                                int32_t adjusted) {
  (void)adjusted;
  if (!close || !wlen(ticker) || !wlen(exchange)) return NL_INVALID_ARGS;
  lock();
  int32_t rc = session_code_locked();
  if (rc == NL_OK) {
    int i = find_listing(ticker, exchange);
    if (i >= 0) {
      const Listing *l = &sim.listings[i];
      *close = ticks_price(start_ticks(l->tick, l->startPrice), tick_scale(l->tick), l->tick);
    }
    else rc = known_exchange(exchange) ? NL_INVALID_TICKER : NL_EXCHANGE_UNKNOWN;
  }
  unlock();
  return rc;
}

/* The simulator hands out no arrays yet; this frees what a future GetPosition would. */
PDLL_EXPORT int32_t PDLL_CALL FreePointer(void *pointer, int32_t size) {
  (void)size;
  free(pointer);
  return NL_OK;
}

/* ---- simulator-only controls ---- */

typedef struct {
  int64_t trades, dailies, priceBooks, offerBooks, tinyBooks, states, invalidTickers, tickerStates, accounts;
  int64_t burstPending;
  int64_t historyTrades, progress;
} SimStats;

/* Trades per second per instrument with any subscription (default 20, or TAPE_SIM_RATE). */
PDLL_EXPORT int32_t SimSetRate(double tradesPerSecond) {
  if (!(tradesPerSecond >= 0 && tradesPerSecond <= MAX_RATE)) return NL_INVALID_ARGS;
  lock();
  sim.rate = tradesPerSecond;
  pthread_cond_signal(&sim.wake);
  unlock();
  return NL_OK;
}

/* Adds an instrument, or re-seeds an existing one (its subscribers' books are cleared and resent). */
PDLL_EXPORT int32_t SimAddTicker(const wchar16 *ticker, const wchar16 *exchange, double tickSize, int32_t lotSize,
                                 double startPrice) {
  size_t t = wlen(ticker), e = wlen(exchange);
  if (!t || t >= TICKER_UNITS || !e || e >= EXCHANGE_UNITS || !(tickSize > 0 && isfinite(tickSize)) || lotSize < 1 ||
      !(startPrice > 0 && isfinite(startPrice)) || startPrice / tickSize > 1e12)
    return NL_INVALID_ARGS;
  lock();
  int32_t rc = NL_OK;
  if (find_listing(ticker, exchange) < 0 && sim.listingCount == MAX_TICKERS) rc = NL_OUT_OF_RANGE;
  else add_listing(ticker, exchange, tickSize, lotSize, startPrice);
  unlock();
  return rc;
}

/* Queues `count` trades that the connector thread sends as fast as it can, round-robin over the
 * subscribed tickers, with no other callbacks and without moving the model; returns at once
 * (poll SimGetStats().burstPending). A session needs a subscribed ticker. */
PDLL_EXPORT int32_t SimBurst(int64_t count) {
  if (count < 0) return NL_INVALID_ARGS;
  lock();
  int32_t rc = session_code_locked();
  int subscribed = 0;
  for (int i = 0; i < sim.listingCount && !subscribed; i++) subscribed = atomic_load(&sim.listings[i].quotes);
  if (rc == NL_OK && !subscribed) rc = NL_NOT_FOUND;
  if (rc == NL_OK) {
    sim.burstRemaining += count;
    pthread_cond_signal(&sim.wake);
  }
  unlock();
  return rc;
}

/* Makes the connector thread call the trade callback with exactly these values, valid or not
 * (NULL strings stay NULL): tests prove that garbage reaches the dead-letter queue. */
PDLL_EXPORT int32_t SimInjectTrade(const wchar16 *ticker, const wchar16 *exchange, int32_t feed, const wchar16 *date,
                                   uint32_t tradeNumber, double price, double volume, int32_t qty, int32_t buyAgent,
                                   int32_t sellAgent, int32_t tradeType, uint8_t isEdit) {
  Pending *p = new_pending(PENDING_TRADE, ticker, exchange, date);
  if (!p) return NL_INTERNAL_ERROR;
  p->feed = feed;
  p->tradeNumber = tradeNumber;
  p->price = price;
  p->volume = volume;
  p->qty = qty;
  p->buyAgent = buyAgent;
  p->sellAgent = sellAgent;
  p->tradeType = tradeType;
  p->isEdit = isEdit;
  lock();
  int32_t rc = sim.initialized ? enqueue_locked(p) : NL_NOT_INITIALIZED;
  unlock();
  if (rc == NL_NOT_INITIALIZED) free_pending(p);
  return rc;
}

/* Reports a trading-state change (halt, auction, ...) through TChangeStateTicker. */
PDLL_EXPORT int32_t SimSetTickerState(const wchar16 *ticker, const wchar16 *exchange, int32_t state) {
  Pending *p = new_pending(PENDING_TICKER_STATE, ticker, exchange, NULL);
  if (!p) return NL_INTERNAL_ERROR;
  p->state = state;
  lock();
  int32_t rc = sim.initialized ? enqueue_locked(p) : NL_NOT_INITIALIZED;
  unlock();
  if (rc == NL_NOT_INITIALIZED) free_pending(p);
  return rc;
}

/* The routing connection to the broker drops (any ROUTING state but 5) or comes back (5): the
 * connector thread reports TStateCallback(ROUTING, state), never the caller's thread, and meanwhile
 * order requests get NL_WAITING_SERVER and the broker's changes are not announced (orders.c). The
 * gate moves now, before the state is queued, so the caller's next request already sees it, and no
 * announcement can follow the "down" report or precede the "up" one. Needs a routing session that
 * has finished its login sequence (sim_routing_status's codes otherwise). */
PDLL_EXPORT int32_t SimSetRoutingState(int32_t state) {
  if (state < ROUTING_DISCONNECTED || state > ROUTING_BROKER_CONNECTED) return NL_INVALID_ARGS;
  Pending *p = new_pending(PENDING_ROUTING_STATE, NULL, NULL, NULL);
  if (!p) return NL_INTERNAL_ERROR;
  p->state = state;
  lock();
  int32_t rc = routing_status_locked();
  if (rc == NL_OK) {
    rc = enqueue_locked(p); /* the thread takes it only once mu is released, after the gate moved */
    if (rc == NL_OK) atomic_store(&sim.brokerDown, state != ROUTING_BROKER_CONNECTED);
  } else free_pending(p);
  unlock();
  return rc;
}

/* Sets the simulator's clock to epochMs (ms since the epoch, UTC); it runs on from there with the
 * real one. 0 goes back to the real clock. Every date the simulator prints follows it, and so do
 * what GetHistoryTrades calls today and when a live market begins. */
PDLL_EXPORT int32_t SimSetClock(int64_t epochMs) {
  if (epochMs < 0 || epochMs > MAX_CLOCK_MS) return NL_INVALID_ARGS;
  atomic_store(&sim.clockOffsetMs, epochMs ? epochMs - real_ms() : 0);
  return NL_OK;
}

/* Callbacks made since the last login, by kind, and the trades a burst still has to send. */
PDLL_EXPORT int32_t SimGetStats(SimStats *out) {
  if (!out) return NL_INVALID_ARGS;
  lock();
  SimCounters *c = &sim.counters;
  *out = (SimStats){atomic_load(&c->trades),    atomic_load(&c->dailies),        atomic_load(&c->priceBooks),
                    atomic_load(&c->offerBooks), atomic_load(&c->tinyBooks),      atomic_load(&c->states),
                    atomic_load(&c->invalidTickers), atomic_load(&c->tickerStates), atomic_load(&c->accounts),
                    sim.burstRemaining, atomic_load(&c->historyTrades), atomic_load(&c->progress)};
  unlock();
  return NL_OK;
}
