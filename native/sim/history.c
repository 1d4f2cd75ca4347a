/* GetHistoryTrades: a day's trades of a listing, made up the same way every time and sent later
 * from the connector thread through THistoryTradeCallback, in packets, with TProgressCallback
 * rising to 100 after the last one (docs/native.md, history). A (listing, day) seeds its own
 * generator from the ticker, the exchange and the date, never from the live rng, so a day asked
 * twice, or by two processes, is the same day. Trades are generated while they are sent: a
 * request holds a generator, never a day of records. Today's history ends where the live market
 * of the listing began (history_resume), so history and live trades make one day: trade numbers
 * 1..N, then N + 1... live, with no hole and no number twice. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "wstr.h"

#define SECOND_MS 1000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define SESSION_OPEN_MS (10 * HOUR_MS)  /* B3's continuous session, Brasília time */
#define SESSION_CLOSE_MS (18 * HOUR_MS) /* exclusive */
#define FUTURES_RANGE_MS DAY_MS          /* the longest range one request may ask for on F... */
#define RANGE_MS (5 * DAY_MS)           /* ...and on any other exchange (API.md: ask in chunks) */
#define PACKET 500                      /* trades a request sends per connector step (~1 ms) */
#define MAX_REQUESTS 64                 /* waiting or being sent, over all listings */
#define MIN_YEAR 1970
#define MAX_YEAR 9999

/* What a day's generator needs of a listing. */
typedef struct {
  wchar16 ticker[TICKER_UNITS], exchange[EXCHANGE_UNITS];
  double tick;
  int32_t lot;
  int64_t scale, startTicks;
} HistoryListing;

typedef struct {
  int64_t at; /* sim_b3_ms scale */
  uint32_t number;
  int64_t ticks;
  int32_t qty, buyAgent, sellAgent, tradeType;
} HistoryTrade;

/* One day's trades of one listing, generated in time order. */
typedef struct {
  uint64_t rng;
  int64_t next;   /* when the next trade prints */
  int64_t end;    /* the close, or the cut when that comes first: no trade at or after it */
  int64_t maxGap; /* gaps between trades are uniform in 0..maxGap ms */
  int64_t ticks, lo, hi;
  uint32_t number; /* of the last trade made */
} Day;

typedef struct Request {
  struct Request *next;
  HistoryListing listing;
  int index;
  uint32_t session;
  int subscribed;
  int64_t from, to; /* [from, to) */
  /* the connector thread's, once the request is being sent */
  int64_t liveStart, now; /* today's cut: where the live market began, else the clock */
  int64_t total, sent;
  int32_t progress; /* last reported, -1 before any */
  int64_t day;      /* the day being sent, in days since the epoch */
  Day d;
} Request;

/* Requests asked for and not taken yet; q.mu is taken after sim.mu, never before it. */
static struct {
  pthread_mutex_t mu;
  Request *head;
  int count; /* waiting here or being sent */
} q = {.mu = PTHREAD_MUTEX_INITIALIZER};
static Request *sending; /* the connector thread's: one per listing at a time */

/* Test and benchmark knobs (Sim* exports, below). */
static _Atomic int64_t sessionTradesSet; /* SimSetHistoryTrades: trades in a whole session; 0 = by kind */
static _Atomic int32_t faultsLeft, faultCode; /* SimSetHistoryFault */

static uint64_t mix(uint64_t x) { /* splitmix64's finalizer */
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static uint64_t listing_hash(const HistoryListing *l) { /* FNV-1a over ticker, 0, exchange */
  uint64_t h = 0xCBF29CE484222325ull;
  for (const wchar16 *s = l->ticker; *s; s++) h = (h ^ *s) * 0x100000001B3ull;
  h *= 0x100000001B3ull;
  for (const wchar16 *s = l->exchange; *s; s++) h = (h ^ *s) * 0x100000001B3ull;
  return mix(h);
}

static void listing_init(HistoryListing *l, const wchar16 *ticker, const wchar16 *exchange, double tick,
                         int32_t lot, int64_t scale, int64_t startTicks) {
  wcopy(l->ticker, ticker, TICKER_UNITS);
  wcopy(l->exchange, exchange, EXCHANGE_UNITS);
  l->tick = tick;
  l->lot = lot;
  l->scale = scale;
  l->startTicks = startTicks;
}

static int futures(const HistoryListing *l) { return weq_ascii(l->exchange, "F"); }

/* Trades in a whole session, by kind of listing: futures, round lots, odd lots. */
static void session_trades(const HistoryListing *l, int64_t *lo, int64_t *hi) {
  int64_t set = atomic_load(&sessionTradesSet);
  if (set > 0) *lo = *hi = set;
  else if (futures(l)) *lo = 32000, *hi = 48000;
  else if (l->lot > 1) *lo = 5200, *hi = 7800;
  else *lo = 1200, *hi = 2800;
}

/* Days since the epoch: 0 is Thursday 01/01/1970. */
static int weekend(int64_t day) {
  int wd = (int)(((day % 7) + 7 + 4) % 7); /* 0 Sunday */
  return wd == 0 || wd == 6;
}

/* Opens a day's generator; trades at or after cut are not made (the same stream, cut short). */
static void day_open(Day *d, const HistoryListing *l, int64_t day, int64_t cut) {
  uint64_t h = listing_hash(l);
  d->rng = mix(h ^ mix((uint64_t)day + 1));
  if (!d->rng) d->rng = 0x9E3779B97F4A7C15ull; /* xorshift must not start at zero */
  d->next = day * DAY_MS + SESSION_OPEN_MS;
  d->end = day * DAY_MS + SESSION_CLOSE_MS;
  if (cut < d->end) d->end = cut;
  if (weekend(day)) d->end = d->next; /* no session: holidays are not simulated */
  d->number = 0;
  int64_t lo, hi;
  session_trades(l, &lo, &hi);
  uint64_t half = (uint64_t)(hi - lo) / 2 + 1;
  /* the listing's own liquidity, and the day's */
  int64_t target = lo + (int64_t)(h % half) + (int64_t)(sim_rand(&d->rng) % half);
  d->maxGap = 2 * (SESSION_CLOSE_MS - SESSION_OPEN_MS) / target;
  int64_t band = l->startTicks / 20; /* the day stays within 5 % of the previous close */
  d->lo = l->startTicks - band < MIN_TICKS ? MIN_TICKS : l->startTicks - band;
  d->hi = l->startTicks + band;
  int64_t gap = l->startTicks / 100; /* and opens within 1 % of it */
  d->ticks = l->startTicks - gap + (int64_t)(sim_rand(&d->rng) % (uint64_t)(2 * gap + 1));
  if (d->ticks < d->lo) d->ticks = d->lo;
  if (d->ticks > d->hi) d->ticks = d->hi;
}

/* The day's next trade, or 0 after the last. Four draws a trade, whatever is cut off later. */
static int day_next(Day *d, const HistoryListing *l, HistoryTrade *t) {
  if (d->next >= d->end) return 0;
  int first = d->number == 0;
  uint64_t u = sim_rand(&d->rng);
  int move = (int)(u % 1000), up = 0, down = 0; /* 15 % an uptick, 15 % a downtick */
  if (!first && move < 150 && d->ticks < d->hi) up = 1, d->ticks++;
  else if (!first && move >= 150 && move < 300 && d->ticks > d->lo) down = 1, d->ticks--;
  int buyer = up || (!down && ((u >> 20) & 1)); /* a move up lifts the offer, down hits the bid */
  t->tradeType = buyer ? TRADE_BUY_AGGRESSION : TRADE_SELL_AGGRESSION;
  if (!first && (u >> 21) % 200 == 0) t->tradeType = TRADE_CROSS; /* a direct trade, 0.5 % */
  uint64_t v = sim_rand(&d->rng);
  int32_t lots = first ? 50 + (int32_t)(v % 451)                       /* the opening auction */
                 : (v >> 32) % 10 == 0 ? 1 + (int32_t)(v % 100)        /* a large order, 10 % */
                                       : 1 + (int32_t)(v % 10);
  t->qty = l->lot * lots;
  uint64_t w = sim_rand(&d->rng);
  t->buyAgent = sim_agent_id((int)(w % (uint64_t)sim_agent_count()));
  t->sellAgent = sim_agent_id((int)((w >> 32) % (uint64_t)sim_agent_count()));
  t->at = d->next;
  t->ticks = d->ticks;
  t->number = ++d->number;
  d->next += (int64_t)(sim_rand(&d->rng) % (uint64_t)(d->maxGap + 1));
  return 1;
}

void history_resume(Market *m, int64_t b3Ms, uint64_t *rng) {
  HistoryListing l;
  listing_init(&l, m->ticker, m->exchange, m->tick, m->lot, m->scale, m->startTicks);
  Day d;
  HistoryTrade t;
  day_open(&d, &l, b3Ms / DAY_MS, b3Ms);
  while (day_next(&d, &l, &t)) {
    if (m->trades == 0) m->open = m->high = m->low = t.ticks;
    if (t.ticks > m->high) m->high = t.ticks;
    if (t.ticks < m->low) m->low = t.ticks;
    m->close = t.ticks;
    double volume = market_price(m, t.ticks) * t.qty;
    m->volume += volume;
    m->qty += t.qty;
    m->trades++;
    if (t.tradeType == TRADE_BUY_AGGRESSION) {
      m->volBuyer += volume;
      m->qtyBuyer += t.qty;
      m->tradesBuyer++;
    } else if (t.tradeType == TRADE_SELL_AGGRESSION) {
      m->volSeller += volume;
      m->qtySeller += t.qty;
      m->tradesSeller++;
    }
  }
  if (d.number == 0) return;
  m->tradeNumber = d.number;
  m->dailyDirty = 1;
  market_reopen(m, m->close, rng);
}

/* ---- GetHistoryTrades ---- */

static int digits(const wchar16 *s, int at, int n, int *out) {
  int v = 0;
  for (int i = at; i < at + n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 1;
}

static int64_t days_from_civil(int64_t y, int m, int d) { /* H. Hinnant's algorithm */
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Exactly DD/MM/YYYY HH:MM:SS, a real date and time; 0 for anything else. */
static int parse_date(const wchar16 *s, int64_t *ms) {
  static const char shape[] = "00/00/0000 00:00:00";
  if (wlen(s) != sizeof shape - 1) return 0;
  for (size_t i = 0; i < sizeof shape - 1; i++)
    if (shape[i] != '0' && s[i] != (wchar16)shape[i]) return 0;
  int day, month, year, hour, minute, second;
  if (!digits(s, 0, 2, &day) || !digits(s, 3, 2, &month) || !digits(s, 6, 4, &year) || !digits(s, 11, 2, &hour) ||
      !digits(s, 14, 2, &minute) || !digits(s, 17, 2, &second))
    return 0;
  static const int monthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1 ||
      day > monthDays[month - 1] - (month == 2 && !leap) || hour > 23 || minute > 59 || second > 59)
    return 0;
  *ms = days_from_civil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * SECOND_MS;
  return 1;
}

/* dtStart and dtEnd in Brasília time, DD/MM/YYYY HH:MM:SS; dtEnd names its whole second. Returns
 * at once: the trades follow from the connector thread. A ticker without SubscribeTicker gets
 * only a progress of 100, as users of the real DLL report. */
PDLL_EXPORT int32_t PDLL_CALL GetHistoryTrades(const wchar16 *ticker, const wchar16 *exchange, const wchar16 *dtStart,
                                               const wchar16 *dtEnd) {
  if (!wlen(ticker) || !wlen(exchange)) return NL_INVALID_ARGS;
  SimListing info;
  int32_t rc = sim_history_listing(ticker, exchange, &info);
  if (rc != NL_OK) return rc;
  int64_t from, to;
  if (!parse_date(dtStart, &from) || !parse_date(dtEnd, &to) || from > to) return NL_INVALID_ARGS;
  HistoryListing listing;
  listing_init(&listing, info.ticker, info.exchange, info.tick, info.lot, tick_scale(info.tick),
               start_ticks(info.tick, info.startPrice));
  if (to - from > (futures(&listing) ? FUTURES_RANGE_MS : RANGE_MS)) return NL_OUT_OF_RANGE;
  int32_t faults = atomic_load(&faultsLeft);
  while (faults > 0 && !atomic_compare_exchange_weak(&faultsLeft, &faults, faults - 1)) {
  }
  if (faults > 0) return atomic_load(&faultCode); /* NL_OK: taken, and never answered */
  Request *r = calloc(1, sizeof *r);
  if (!r) return NL_INTERNAL_ERROR;
  r->listing = listing;
  r->index = info.index;
  r->session = info.session;
  r->subscribed = info.subscribed;
  r->from = from;
  r->to = to + SECOND_MS;
  pthread_mutex_lock(&q.mu);
  if (q.count >= MAX_REQUESTS) rc = NL_OUT_OF_RANGE;
  else {
    Request **tail = &q.head;
    while (*tail) tail = &(*tail)->next;
    *tail = r;
    q.count++;
  }
  pthread_mutex_unlock(&q.mu);
  if (rc != NL_OK) free(r);
  else sim_signal();
  return rc;
}

/* ---- the connector thread ---- */

/* Today's trades end where the live market began; any other day's, at the clock. */
static int64_t cut_of(const Request *r, int64_t day) {
  return r->liveStart && r->liveStart / DAY_MS == day ? r->liveStart : r->now;
}

static int64_t first_day(const Request *r) { return r->from / DAY_MS; }
static int64_t last_day(const Request *r) { return (r->to - 1) / DAY_MS; }

/* The trades in range, counted ahead so progress can rise with them. */
static int64_t count_trades(const Request *r) {
  int64_t n = 0;
  HistoryTrade t;
  for (int64_t day = first_day(r); r->subscribed && day <= last_day(r); day++) {
    Day d;
    day_open(&d, &r->listing, day, cut_of(r, day));
    while (day_next(&d, &r->listing, &t) && t.at < r->to)
      if (t.at >= r->from) n++;
  }
  return n;
}

static void start(Request *r, const int64_t *liveStartMs) {
  r->liveStart = liveStartMs[r->index];
  r->now = sim_b3_ms();
  r->total = count_trades(r);
  r->progress = -1;
  r->day = first_day(r);
  day_open(&r->d, &r->listing, r->day, cut_of(r, r->day));
}

/* As the V1 callbacks print it: DD/MM/YYYY HH:MM:SS.ZZZ. */
static void format_date(int64_t at, wchar16 out[32]) {
  time_t secs = (time_t)(at / SECOND_MS);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%02d/%02d/%04d %02d:%02d:%02d.%03d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(at % SECOND_MS));
  wfrom_ascii(out, buf, 32);
}

static void report_progress(Request *r, const HistoryOut *out, int32_t progress) {
  if (progress <= r->progress) return;
  r->progress = progress;
  if (!out->progress) return;
  out->progress((TAssetIDRec){r->listing.ticker, r->listing.exchange, 0}, progress);
  atomic_fetch_add_explicit(&out->counters->progress, 1, memory_order_relaxed);
}

/* Sends the request's next packet; 1 once its last trade and the progress of 100 have gone. */
static int send_packet(Request *r, const HistoryOut *out) {
  TAssetIDRec asset = {r->listing.ticker, r->listing.exchange, 0};
  HistoryTrade t;
  wchar16 date[32];
  for (int n = 0; n < PACKET && r->sent < r->total;) {
    if (!day_next(&r->d, &r->listing, &t) || t.at >= r->to) {
      if (++r->day > last_day(r)) break; /* not reached: the count and this walk are the same */
      day_open(&r->d, &r->listing, r->day, cut_of(r, r->day));
      continue;
    }
    if (t.at < r->from) continue;
    r->sent++;
    n++;
    if (!out->trade) continue;
    double price = ticks_price(t.ticks, r->listing.scale, r->listing.tick);
    format_date(t.at, date);
    if (out->mark) out->mark(r->sent == r->total);
    out->trade(asset, date, t.number, price, price * t.qty, t.qty, t.buyAgent, t.sellAgent, t.tradeType);
    atomic_fetch_add_explicit(&out->counters->historyTrades, 1, memory_order_relaxed);
  }
  if (r->sent < r->total && r->day <= last_day(r)) {
    report_progress(r, out, (int32_t)(r->sent * 100 / r->total < 99 ? r->sent * 100 / r->total : 99));
    return 0;
  }
  report_progress(r, out, 100);
  return 1;
}

static int is_sending(const Request *r) {
  for (const Request *s = sending; s; s = s->next)
    if (s->index == r->index) return 1;
  return 0;
}

void history_step(const HistoryOut *out, const int64_t *liveStartMs, uint32_t session) {
  Request *taken = NULL, **takenTail = &taken;
  pthread_mutex_lock(&q.mu);
  for (Request **p = &q.head; *p;) {
    Request *r = *p;
    int stale = r->session != session; /* asked just before a DLLFinalize */
    int listingFree = !is_sending(r);
    for (Request *t = taken; t && listingFree; t = t->next) listingFree = t->index != r->index;
    if (!stale && !listingFree) { /* queued behind the one of its listing being sent */
      p = &r->next;
      continue;
    }
    *p = r->next;
    r->next = NULL;
    if (stale) {
      q.count--;
      free(r);
    } else {
      *takenTail = r;
      takenTail = &r->next;
    }
  }
  pthread_mutex_unlock(&q.mu);
  for (Request *r = taken; r; r = r->next) start(r, liveStartMs);
  if (taken) { /* after the ones already being sent, so they keep their turn */
    Request **tail = &sending;
    while (*tail) tail = &(*tail)->next;
    *tail = taken;
  }
  int done = 0;
  for (Request **p = &sending; *p;) {
    Request *r = *p;
    if (!send_packet(r, out)) {
      p = &r->next;
      continue;
    }
    *p = r->next;
    free(r);
    done++;
  }
  if (done) {
    pthread_mutex_lock(&q.mu);
    q.count -= done;
    pthread_mutex_unlock(&q.mu);
  }
}

int history_busy(void) { /* sending is the connector thread's own, and so is this call */
  pthread_mutex_lock(&q.mu);
  int busy = sending != NULL || q.head != NULL;
  pthread_mutex_unlock(&q.mu);
  return busy;
}

static void free_all(Request *r) {
  while (r) {
    Request *next = r->next;
    free(r);
    r = next;
  }
}

void history_finalized(void) {
  pthread_mutex_lock(&q.mu);
  free_all(q.head);
  free_all(sending);
  q.head = sending = NULL;
  q.count = 0;
  pthread_mutex_unlock(&q.mu);
}

/* ---- Sim* knobs for tests and benchmarks ---- */

/* Every listing's whole session holds about `perSession` trades from now on (0: back to the
 * counts by kind of listing), the live market's start included: a benchmark's dense history. */
PDLL_EXPORT int32_t SimSetHistoryTrades(int64_t perSession) {
  if (perSession < 0 || perSession > 20000000) return NL_INVALID_ARGS;
  atomic_store(&sessionTradesSet, perSession);
  return NL_OK;
}

/* The next `count` GetHistoryTrades calls that pass their checks fail: they return `code`, or,
 * with NL_OK, are taken and never answered (no trade, no progress), as a lost request would be.
 * count 0 clears it. */
PDLL_EXPORT int32_t SimSetHistoryFault(int32_t count, int32_t code) {
  if (count < 0) return NL_INVALID_ARGS;
  atomic_store(&faultCode, code);
  atomic_store(&faultsLeft, count);
  return NL_OK;
}

/* The simulator's clock (SimSetClock, else the real one) as ms since the epoch: the DLL's "now",
 * which today's history is cut at. */
PDLL_EXPORT int64_t SimGetClock(void) { return sim_b3_ms() + 3 * HOUR_MS; }
