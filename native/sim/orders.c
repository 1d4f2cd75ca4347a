/* The simulator's order routing: ProfitDLL's V2 order exports (SendOrder, SendChangeOrderV2,
 * SendCancelOrderV2, SendCancelAllOrdersV2, GetOrderDetails, EnumerateAllOrders,
 * SetOrderCallback) with the real return codes, and a broker that acknowledges, rejects,
 * cancels, changes and fills orders against the simulated books (docs/native.md, orders).
 * Requests are checked synchronously the way the DLL checks its arguments; what a broker
 * decides (lot, tick grid, price band) comes back asynchronously as a rejected order. Every
 * callback comes from the connector thread. Orders outlive DLLFinalize, as they live at the
 * broker: a process that logs in again finds them with EnumerateAllOrders. With
 * TAPE_SIM_BROKER_JOURNAL set, the broker also outlives the process: every accepted order and
 * every change is appended to that file and read back at the next start (see the journal below). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#include "wstr.h"

#define MAX_ORDERS 100000
#define ACCOUNT_UNITS 41
#define ID_UNITS 24
#define TEXT_UNITS 96
#define NOTIFY_BATCH 256
#define PRICE_BAND 0.20 /* limit prices beyond ±20% of the reference are refused, like B3's tunnels */

enum { WORK_ACK = 1, WORK_CANCEL = 2, WORK_CHANGE = 4 };
enum { MODE_MATCH = 0, MODE_HOLD = 1, MODE_REJECT = 2 };

typedef struct {
  int64_t localId;
  wchar16 clOrdId[ID_UNITS];
  int32_t brokerId;
  wchar16 account[ACCOUNT_UNITS], subAccount[ACCOUNT_UNITS];
  int listing;
  wchar16 ticker[TICKER_UNITS], exchange[EXCHANGE_UNITS];
  double tick;
  int32_t lot;
  uint8_t side, type, status;
  int64_t qty, traded;
  double price, stopPrice, tradedValue;
  TSystemTime date, lastUpdate, closeDate;
  wchar16 text[TEXT_UNITS];
  int work, notify;
  int journal; /* changed since its last journal line */
  double newPrice;
  int64_t newQty;
} SimOrder;

typedef struct {
  int64_t sent, rejected, canceled, replaced, fills, callbacks;
} SimOrderStats;

static struct {
  pthread_mutex_t mu; /* taken after sim.mu, never before it */
  SimOrder *orders;
  int count, cap;
  int64_t nextLocalId;
  int mode;
  int dirty;   /* some order has work or a change to report */
  int resting; /* some order works on a book */
  SimOrderStats stats;
} ob = {.mu = PTHREAD_MUTEX_INITIALIZER};
static _Atomic(TConnectorOrderCallback) orderCallback;

static int is_working(const SimOrder *o) {
  return o->status == ORDER_STATUS_NEW || o->status == ORDER_STATUS_PARTIALLY_FILLED ||
         o->status == ORDER_STATUS_REPLACED || o->status == ORDER_STATUS_PENDING_NEW ||
         o->status == ORDER_STATUS_PENDING_CANCEL || o->status == ORDER_STATUS_PENDING_REPLACE;
}

static void touch(SimOrder *o, int work) {
  o->work |= work;
  o->notify = 1;
  o->journal = 1;
  sim_b3_systemtime(&o->lastUpdate);
  ob.dirty = 1;
}

static void close_order(SimOrder *o, uint8_t status, const char *text) {
  o->status = status;
  o->work = 0;
  if (text) wfrom_ascii(o->text, text, TEXT_UNITS);
  touch(o, 0);
  o->closeDate = o->lastUpdate;
}

/* ---- the broker journal (TAPE_SIM_BROKER_JOURNAL) ----
 * A real broker keeps its orders when the client's process dies; the simulator lives in that
 * process, so without help a kill -9 would take the "broker" with it. When the variable names a
 * file, every accepted SendOrder appends an S line with the whole order, every change of an
 * order a U line with its mutable state, a refused SendOrder an X line and SimResetOrders a Z
 * line: one write(2) per line on an O_APPEND descriptor, so a killed process leaves whole lines
 * (the page cache keeps them: only the process died, so there is no fsync). The first login
 * (or order call) of the next process reads it back: the last state of every order since the
 * last Z is the broker's book again, including work the broker had not done yet (an
 * acknowledgement, a cancel), and local ids continue above the highest one in the file.
 *
 *   S <localId> <clOrdId> <brokerId> <account> <subAccount> <ticker> <exchange> <side> <type>
 *     <qty> <price> <stopPrice> <date>
 *   U <localId> <status> <qty> <price> <traded> <tradedValue> <work> <newPrice> <newQty>
 *     <lastUpdate> <closeDate> <text>
 *   X <code> <brokerId> <account> <ticker> <exchange> <side> <type> <qty> <price>
 *   Z
 *
 * Strings are '=' then their UTF-16 units: printable ASCII as is, anything else (space, '%',
 * non-ASCII) as %XXXX. Doubles are %.17g (exact), times the SYSTEMTIME's eight fields joined by
 * '.'. One S line is one order the DLL took: a test counts them to prove nothing went twice. */

#define JOURNAL_LINE 4096

/* A local id from the clock: ms since the epoch × 1000, so ids stay unique across runs. */
static int64_t clock_id(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) * 1000;
}

static int journalFd = -1;
static pthread_once_t journalOnce = PTHREAD_ONCE_INIT;

typedef struct {
  char s[JOURNAL_LINE];
  size_t n;
  int overflow;
} Line;

static void put(Line *l, const char *fmt, ...) {
  if (l->overflow) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(l->s + l->n, sizeof l->s - l->n, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= sizeof l->s - l->n) l->overflow = 1;
  else l->n += (size_t)k;
}

static void put_wstr(Line *l, const wchar16 *s) {
  put(l, " =");
  for (size_t i = 0; s && s[i]; i++) {
    unsigned u = s[i];
    if (u > 0x20 && u < 0x7f && u != '%') put(l, "%c", (char)u);
    else put(l, "%%%04X", u);
  }
}

static void put_time(Line *l, const TSystemTime *t) {
  put(l, " %u.%u.%u.%u.%u.%u.%u.%u", t->year, t->month, t->dayOfWeek, t->day, t->hour, t->minute, t->second,
      t->milliseconds);
}

static void journal_write(Line *l) {
  put(l, "\n");
  if (journalFd < 0 || l->overflow) return;
  ssize_t w;
  do w = write(journalFd, l->s, l->n);
  while (w < 0 && errno == EINTR);
}

/* An order the DLL took (under ob.mu, so lines follow the order of events). */
static void journal_send(const SimOrder *o) {
  if (journalFd < 0) return;
  Line l = {.n = 0};
  put(&l, "S %lld", (long long)o->localId);
  put_wstr(&l, o->clOrdId);
  put(&l, " %d", o->brokerId);
  put_wstr(&l, o->account);
  put_wstr(&l, o->subAccount);
  put_wstr(&l, o->ticker);
  put_wstr(&l, o->exchange);
  put(&l, " %u %u %lld %.17g %.17g", o->side, o->type, (long long)o->qty, o->price, o->stopPrice);
  put_time(&l, &o->date);
  journal_write(&l);
}

/* The order's state after a change (under ob.mu); nothing when it has not changed. */
static void journal_update(SimOrder *o) {
  if (!o->journal) return;
  o->journal = 0;
  if (journalFd < 0) return;
  Line l = {.n = 0};
  put(&l, "U %lld %u %lld %.17g %lld %.17g %d %.17g %lld", (long long)o->localId, o->status, (long long)o->qty,
      o->price, (long long)o->traded, o->tradedValue, o->work, o->newPrice, (long long)o->newQty);
  put_time(&l, &o->lastUpdate);
  put_time(&l, &o->closeDate);
  put_wstr(&l, o->text);
  journal_write(&l);
}

/* A SendOrder the DLL refused with a code: no order, but the call is on record. */
static int64_t journal_refused(const TConnectorSendOrder *req, int64_t code) {
  if (journalFd < 0) return code;
  Line l = {.n = 0};
  put(&l, "X %lld %d", (long long)code, req->accountId.brokerId);
  put_wstr(&l, req->accountId.accountId);
  put_wstr(&l, req->assetId.ticker);
  put_wstr(&l, req->assetId.exchange);
  put(&l, " %u %u %lld %.17g", req->orderSide, req->orderType, (long long)req->quantity, req->price);
  journal_write(&l);
  return code;
}

/* A string field back into units (at most units - 1, terminated); 0 when malformed. */
static int get_wstr(const char *tok, wchar16 *dst, size_t units) {
  if (!tok || tok[0] != '=') return 0;
  size_t n = 0;
  for (const char *p = tok + 1; *p;) {
    unsigned u = 0;
    if (*p == '%') {
      for (int i = 1; i <= 4; i++) {
        char c = p[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0) return 0; /* also a string cut short: p[i] is its NUL */
        u = u * 16 + (unsigned)v;
      }
      p += 5;
    } else u = (unsigned char)*p++;
    if (n + 1 < units) dst[n++] = (wchar16)u;
  }
  dst[n] = 0;
  return 1;
}

static int get_time(const char *tok, TSystemTime *t) {
  unsigned v[8];
  if (!tok || sscanf(tok, "%u.%u.%u.%u.%u.%u.%u.%u", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
    return 0;
  *t = (TSystemTime){(uint16_t)v[0], (uint16_t)v[1], (uint16_t)v[2], (uint16_t)v[3],
                     (uint16_t)v[4], (uint16_t)v[5], (uint16_t)v[6], (uint16_t)v[7]};
  return 1;
}

static int get_i64(const char *tok, int64_t *out) {
  char *end = NULL;
  if (!tok) return 0;
  long long v = strtoll(tok, &end, 10);
  if (end == tok || *end) return 0;
  *out = v;
  return 1;
}

static int get_f64(const char *tok, double *out) {
  char *end = NULL;
  if (!tok) return 0;
  double v = strtod(tok, &end);
  if (end == tok || *end) return 0;
  *out = v;
  return 1;
}

/* Room for one more order in ob (under ob.mu); 0 at MAX_ORDERS or out of memory. */
static int grow_locked(void) {
  if (ob.count < ob.cap) return 1;
  int cap = ob.cap ? ob.cap * 2 : 256;
  SimOrder *grown = ob.count < MAX_ORDERS ? realloc(ob.orders, (size_t)cap * sizeof *grown) : NULL;
  if (!grown) return 0;
  ob.orders = grown;
  ob.cap = cap;
  return 1;
}

static SimOrder *find_local_locked(int64_t localId) {
  for (int i = ob.count - 1; i >= 0; i--)
    if (ob.orders[i].localId == localId) return &ob.orders[i];
  return NULL;
}

/* One journal line applied to ob (under ob.mu); malformed lines are skipped. */
static void journal_apply(char *line, int64_t *maxId) {
  char *save = NULL, *tok[16];
  int n = 0;
  for (char *t = strtok_r(line, " ", &save); t && n < 16; t = strtok_r(NULL, " ", &save)) tok[n++] = t;
  if (n == 0) return;
  if (!strcmp(tok[0], "Z")) {
    ob.count = 0;
    return;
  }
  int64_t localId, v;
  if (!strcmp(tok[0], "S") && n == 14 && get_i64(tok[1], &localId)) {
    SimOrder o;
    memset(&o, 0, sizeof o);
    int64_t side, type;
    int ok = get_wstr(tok[2], o.clOrdId, ID_UNITS) && get_i64(tok[3], &v) &&
             get_wstr(tok[4], o.account, ACCOUNT_UNITS) && get_wstr(tok[5], o.subAccount, ACCOUNT_UNITS) &&
             get_wstr(tok[6], o.ticker, TICKER_UNITS) &&
             get_wstr(tok[7], o.exchange, EXCHANGE_UNITS) && get_i64(tok[8], &side) && get_i64(tok[9], &type) &&
             get_i64(tok[10], &o.qty) && get_f64(tok[11], &o.price) && get_f64(tok[12], &o.stopPrice) &&
             get_time(tok[13], &o.date);
    if (!ok || !grow_locked()) return;
    o.localId = localId;
    o.brokerId = (int32_t)v;
    o.side = (uint8_t)side;
    o.type = (uint8_t)type;
    o.status = ORDER_STATUS_PENDING_NEW;
    o.work = WORK_ACK;
    o.lastUpdate = o.date;
    o.listing = -1; /* resolved once the whole file is read */
    ob.orders[ob.count++] = o;
    if (localId > *maxId) *maxId = localId;
    return;
  }
  if (!strcmp(tok[0], "U") && n == 13 && get_i64(tok[1], &localId)) {
    SimOrder *o = find_local_locked(localId);
    if (!o) return;
    SimOrder u = *o;
    int64_t status, work;
    int ok = get_i64(tok[2], &status) && get_i64(tok[3], &u.qty) && get_f64(tok[4], &u.price) &&
             get_i64(tok[5], &u.traded) && get_f64(tok[6], &u.tradedValue) && get_i64(tok[7], &work) &&
             get_f64(tok[8], &u.newPrice) && get_i64(tok[9], &u.newQty) && get_time(tok[10], &u.lastUpdate) &&
             get_time(tok[11], &u.closeDate) && get_wstr(tok[12], u.text, TEXT_UNITS);
    if (!ok) return;
    u.status = (uint8_t)status;
    u.work = (int)work;
    *o = u;
  }
}

static void journal_open(void) {
  const char *path = getenv("TAPE_SIM_BROKER_JOURNAL");
  if (!path || !*path) return;
  int64_t maxId = 0;
  FILE *f = fopen(path, "r");
  if (f) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    pthread_mutex_lock(&ob.mu);
    while ((len = getline(&line, &cap, f)) > 0) {
      if (line[len - 1] != '\n') break; /* cut short: not a whole record */
      line[len - 1] = 0;
      journal_apply(line, &maxId);
    }
    pthread_mutex_unlock(&ob.mu);
    free(line);
    fclose(f);
  }
  /* Listings live under sim.mu, which is never taken inside ob.mu: resolve them outside it. */
  for (int i = 0;; i++) {
    pthread_mutex_lock(&ob.mu);
    if (i >= ob.count) {
      pthread_mutex_unlock(&ob.mu);
      break;
    }
    wchar16 ticker[TICKER_UNITS], exchange[EXCHANGE_UNITS];
    wcopy(ticker, ob.orders[i].ticker, TICKER_UNITS);
    wcopy(exchange, ob.orders[i].exchange, EXCHANGE_UNITS);
    pthread_mutex_unlock(&ob.mu);
    double tick = 0;
    int32_t lot = 1;
    int listing = sim_find_listing(ticker, exchange, &tick, &lot);
    pthread_mutex_lock(&ob.mu);
    SimOrder *o = &ob.orders[i];
    o->listing = listing;
    o->tick = listing >= 0 ? tick : 0;
    o->lot = listing >= 0 ? lot : 1;
    if (listing < 0) o->work = 0; /* an instrument this run does not list: it rests as it was */
    if (o->work) ob.dirty = 1;
    if (is_working(o)) ob.resting = 1;
    pthread_mutex_unlock(&ob.mu);
  }
  if (maxId > 0) { /* above every id the broker already gave, whatever the clock says */
    int64_t clockId = clock_id();
    pthread_mutex_lock(&ob.mu);
    ob.nextLocalId = clockId > maxId ? clockId : maxId + 1;
    pthread_mutex_unlock(&ob.mu);
  }
  journalFd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (journalFd < 0)
    fprintf(stderr, "profitdll_sim: cannot open TAPE_SIM_BROKER_JOURNAL %s: %s\n", path, strerror(errno));
}

void orders_init(void) { pthread_once(&journalOnce, journal_open); }

/* Finds by local id, or by ClOrderID when the local id is 0; NULL when absent. */
static SimOrder *find_order(const TConnectorOrderIdentifier *id) {
  for (int i = 0; i < ob.count; i++) {
    SimOrder *o = &ob.orders[i];
    if (id->localOrderId ? o->localId == id->localOrderId : weq(o->clOrdId, id->clOrderId)) return o;
  }
  return NULL;
}

static int same_account(const SimOrder *o, const TConnectorAccountIdentifier *a) {
  return o->brokerId == a->brokerId && weq(o->account, a->accountId) &&
         (wlen(a->subAccountId) == 0 || weq(o->subAccount, a->subAccountId));
}

static int32_t check_account(const TConnectorAccountIdentifier *a, const wchar16 *password) {
  if (a->brokerId <= 0 || !wlen(a->accountId) || wlen(a->accountId) >= ACCOUNT_UNITS ||
      wlen(a->subAccountId) >= ACCOUNT_UNITS)
    return NL_INVALID_ARGS;
  return wlen(password) ? NL_OK : NL_NO_PASSWORD;
}

static int64_t to_ticks(const SimOrder *o, double price) { return llround(price / o->tick); }

static int on_grid(const SimOrder *o, double price) {
  double t = price / o->tick;
  return fabs(t - nearbyint(t)) < 1e-6;
}

/* Why the broker refuses a limit price or quantity, or NULL. */
static const char *broker_check(const SimOrder *o, const Market *m, int type, double price, int64_t qty) {
  if (qty % o->lot != 0) return "quantity is not a multiple of the lot";
  if (type == ORDER_TYPE_STOP_LIMIT) return "stop orders are not simulated";
  if (type != ORDER_TYPE_LIMIT) return NULL;
  if (!on_grid(o, price)) return "price is not on the tick grid";
  double reference = market_price(m, m->close ? m->close : m->startTicks);
  if (fabs(price - reference) > PRICE_BAND * reference) return "price outside the tunnel";
  return NULL;
}

/* One fill against the best opposite level, when the order's price reaches it. */
static void match(SimOrder *o, const Market *m) {
  int opposite = o->side == ORDER_SIDE_BUY ? SIDE_SELL : SIDE_BUY;
  const BookSide *s = &m->side[opposite];
  if (s->n == 0) return;
  const Level *l = &s->level[0];
  if (o->type == ORDER_TYPE_LIMIT) {
    int64_t limit = to_ticks(o, o->price);
    if (o->side == ORDER_SIDE_BUY ? l->price > limit : l->price < limit) return;
  }
  int64_t available = 0;
  for (int j = 0; j < l->n; j++) available += l->qty[j];
  int64_t leaves = o->qty - o->traded;
  int64_t q = leaves < available ? leaves : available;
  if (q <= 0) return;
  double price = market_price(m, l->price);
  o->traded += q;
  o->tradedValue += (double)q * price;
  ob.stats.fills++;
  if (o->traded == o->qty) close_order(o, ORDER_STATUS_FILLED, NULL);
  else {
    o->status = ORDER_STATUS_PARTIALLY_FILLED;
    touch(o, 0);
  }
}

static void acknowledge(SimOrder *o, const Market *m) {
  const char *why = ob.mode == MODE_REJECT ? "rejected by the simulated broker"
                                           : broker_check(o, m, o->type, o->price, o->qty);
  if (why) {
    ob.stats.rejected++;
    close_order(o, ORDER_STATUS_REJECTED, why);
    return;
  }
  o->status = ORDER_STATUS_NEW;
  touch(o, 0);
}

static void change(SimOrder *o, const Market *m) {
  double price = o->type == ORDER_TYPE_LIMIT ? o->newPrice : o->price;
  const char *why = o->newQty <= o->traded ? "new quantity is not above the quantity filled"
                                           : broker_check(o, m, o->type, price, o->newQty);
  if (why) {
    /* The order keeps working unchanged; the text says why the change was refused. */
    o->status = o->traded > 0 ? ORDER_STATUS_PARTIALLY_FILLED : ORDER_STATUS_NEW;
    wfrom_ascii(o->text, why, TEXT_UNITS);
  } else {
    o->qty = o->newQty;
    o->price = price;
    o->status = ORDER_STATUS_REPLACED;
    o->text[0] = 0;
    ob.stats.replaced++;
  }
  touch(o, 0);
}

void orders_step(Market *markets, int count, int trading) {
  TConnectorOrderIdentifier ids[NOTIFY_BATCH];
  wchar16 clOrdIds[NOTIFY_BATCH][ID_UNITS];
  int n = 0;
  pthread_mutex_lock(&ob.mu);
  if (ob.dirty || (ob.resting && trading)) {
    int dirty = 0, resting = 0;
    for (int i = 0; i < ob.count; i++) {
      SimOrder *o = &ob.orders[i];
      const Market *m = o->listing >= 0 && o->listing < count ? &markets[o->listing] : NULL;
      if (m && m->tick > 0) {
        if (o->work & WORK_CANCEL) {
          ob.stats.canceled++;
          close_order(o, ORDER_STATUS_CANCELED, NULL);
        }
        if (o->work & WORK_ACK) {
          o->work &= ~WORK_ACK;
          acknowledge(o, m);
        }
        if (o->work & WORK_CHANGE) {
          o->work &= ~WORK_CHANGE;
          change(o, m);
        }
        if (trading && ob.mode == MODE_MATCH && !o->work && is_working(o)) match(o, m);
      }
      journal_update(o);
      if (o->notify && n < NOTIFY_BATCH) {
        o->notify = 0;
        wcopy(clOrdIds[n], o->clOrdId, ID_UNITS);
        ids[n] = (TConnectorOrderIdentifier){0, o->localId, clOrdIds[n]};
        n++;
      }
      dirty |= o->notify || o->work;
      resting |= is_working(o);
    }
    ob.dirty = dirty;
    ob.resting = resting;
  }
  ob.stats.callbacks += atomic_load(&orderCallback) ? n : 0;
  pthread_mutex_unlock(&ob.mu);
  TConnectorOrderCallback cb = atomic_load(&orderCallback);
  if (cb)
    for (int i = 0; i < n; i++) cb(ids[i]);
}

int orders_busy(void) {
  pthread_mutex_lock(&ob.mu);
  int busy = ob.dirty ? 1 : ob.resting ? 2 : 0;
  pthread_mutex_unlock(&ob.mu);
  return busy;
}

void orders_finalized(void) { atomic_store(&orderCallback, NULL); }

/* ---- the DLL's exports ---- */

PDLL_EXPORT int32_t PDLL_CALL SetOrderCallback(TConnectorOrderCallback cb) {
  atomic_store(&orderCallback, cb);
  return NL_OK;
}

PDLL_EXPORT int64_t PDLL_CALL SendOrder(const TConnectorSendOrder *req) {
  orders_init();
  if (!req) return NL_INVALID_ARGS;
  if (req->version > 1) return journal_refused(req, NL_VERSION_NOT_SUPPORTED);
  int32_t rc = sim_routing_status();
  if (rc != NL_OK) return journal_refused(req, rc);
  if ((rc = check_account(&req->accountId, req->password)) != NL_OK) return journal_refused(req, rc);
  double tick;
  int32_t lot;
  int listing = sim_find_listing(req->assetId.ticker, req->assetId.exchange, &tick, &lot);
  if (listing < 0) return journal_refused(req, listing);
  int type = req->orderType, side = req->orderSide;
  if ((type != ORDER_TYPE_MARKET && type != ORDER_TYPE_LIMIT && type != ORDER_TYPE_STOP_LIMIT) ||
      (side != ORDER_SIDE_BUY && side != ORDER_SIDE_SELL) || req->quantity <= 0 || req->quantity > INT32_MAX ||
      (type != ORDER_TYPE_MARKET && !(isfinite(req->price) && req->price > 0)))
    return journal_refused(req, NL_INVALID_ARGS);
  pthread_mutex_lock(&ob.mu);
  if (!grow_locked()) {
    pthread_mutex_unlock(&ob.mu);
    return journal_refused(req, NL_OUT_OF_RANGE);
  }
  if (!ob.nextLocalId) ob.nextLocalId = clock_id(); /* unique across runs, like the DLL's ids */
  SimOrder *o = &ob.orders[ob.count++];
  memset(o, 0, sizeof *o);
  o->localId = ob.nextLocalId++;
  char id[ID_UNITS];
  snprintf(id, sizeof id, "SIM%lld", (long long)o->localId);
  wfrom_ascii(o->clOrdId, id, ID_UNITS);
  o->brokerId = req->accountId.brokerId;
  wcopy(o->account, req->accountId.accountId, ACCOUNT_UNITS);
  wcopy(o->subAccount, req->accountId.subAccountId, ACCOUNT_UNITS);
  o->listing = listing;
  wcopy(o->ticker, req->assetId.ticker, TICKER_UNITS);
  wcopy(o->exchange, req->assetId.exchange, EXCHANGE_UNITS);
  o->tick = tick;
  o->lot = lot;
  o->side = (uint8_t)side;
  o->type = (uint8_t)type;
  o->status = ORDER_STATUS_PENDING_NEW;
  o->qty = req->quantity;
  o->price = type == ORDER_TYPE_MARKET ? -1 : req->price;
  o->stopPrice = type == ORDER_TYPE_STOP_LIMIT ? req->stopPrice : -1;
  touch(o, WORK_ACK);
  o->date = o->lastUpdate;
  journal_send(o);
  journal_update(o);
  ob.stats.sent++;
  int64_t localId = o->localId;
  pthread_mutex_unlock(&ob.mu);
  sim_signal();
  return localId;
}

/* A cancel or change request: the order must be this account's and still working. */
static int32_t request(const TConnectorAccountIdentifier *account, const TConnectorOrderIdentifier *id,
                       const wchar16 *password, int work, double price, int64_t qty) {
  int32_t rc = sim_routing_status();
  if (rc == NL_OK) rc = check_account(account, password);
  if (rc != NL_OK) return rc;
  pthread_mutex_lock(&ob.mu);
  SimOrder *o = find_order(id);
  if (!o || !same_account(o, account)) rc = NL_NOT_FOUND;
  else if (!is_working(o) || (o->work & WORK_CANCEL)) rc = NL_INVALID_ARGS;
  else if (work == WORK_CHANGE) {
    if (o->work & WORK_CHANGE) rc = NL_INVALID_ARGS; /* one change at a time */
    else {
      o->newPrice = price;
      o->newQty = qty;
      o->status = ORDER_STATUS_PENDING_REPLACE;
      touch(o, WORK_CHANGE);
    }
  } else {
    o->status = ORDER_STATUS_PENDING_CANCEL;
    touch(o, WORK_CANCEL);
  }
  if (o) journal_update(o);
  pthread_mutex_unlock(&ob.mu);
  if (rc == NL_OK) sim_signal();
  return rc;
}

PDLL_EXPORT int32_t PDLL_CALL SendCancelOrderV2(const TConnectorCancelOrder *req) {
  orders_init();
  if (!req) return NL_INVALID_ARGS;
  if (req->version > 0) return NL_VERSION_NOT_SUPPORTED;
  return request(&req->accountId, &req->orderId, req->password, WORK_CANCEL, 0, 0);
}

PDLL_EXPORT int32_t PDLL_CALL SendChangeOrderV2(const TConnectorChangeOrder *req) {
  orders_init();
  if (!req) return NL_INVALID_ARGS;
  if (req->version > 0) return NL_VERSION_NOT_SUPPORTED;
  if (req->quantity <= 0 || req->quantity > INT32_MAX || !(isfinite(req->price) && req->price > 0))
    return NL_INVALID_ARGS;
  return request(&req->accountId, &req->orderId, req->password, WORK_CHANGE, req->price, req->quantity);
}

PDLL_EXPORT int32_t PDLL_CALL SendCancelAllOrdersV2(const TConnectorCancelAllOrders *req) {
  orders_init();
  if (!req) return NL_INVALID_ARGS;
  if (req->version > 0) return NL_VERSION_NOT_SUPPORTED;
  int32_t rc = sim_routing_status();
  if (rc == NL_OK) rc = check_account(&req->accountId, req->password);
  if (rc != NL_OK) return rc;
  pthread_mutex_lock(&ob.mu);
  for (int i = 0; i < ob.count; i++) {
    SimOrder *o = &ob.orders[i];
    if (same_account(o, &req->accountId) && is_working(o) && !(o->work & WORK_CANCEL)) {
      o->status = ORDER_STATUS_PENDING_CANCEL;
      touch(o, WORK_CANCEL);
      journal_update(o);
    }
  }
  pthread_mutex_unlock(&ob.mu);
  sim_signal();
  return NL_OK;
}

/* Copies into a caller's buffer of *capacity units; *capacity becomes the units needed. */
static void out_string(wchar16 *dst, int32_t *capacity, const wchar16 *src) {
  int32_t need = (int32_t)wlen(src) + 1;
  if (dst && *capacity > 0) wcopy(dst, src, (size_t)*capacity);
  *capacity = need;
}

static double average(const SimOrder *o) { return o->traded ? o->tradedValue / (double)o->traded : 0; }

#define COPY_ORDER_FIELDS(out, o)                                                                             \
  do {                                                                                                        \
    (out)->quantity = (o)->qty;                                                                               \
    (out)->tradedQuantity = (o)->traded;                                                                      \
    (out)->leavesQuantity = is_working(o) ? (o)->qty - (o)->traded : 0;                                       \
    (out)->price = (o)->price;                                                                                \
    (out)->stopPrice = (o)->stopPrice;                                                                        \
    (out)->averagePrice = average(o);                                                                         \
    (out)->orderSide = (o)->side;                                                                             \
    (out)->orderType = (o)->type;                                                                             \
    (out)->orderStatus = (o)->status;                                                                         \
    (out)->validityType = 0;                                                                                  \
    (out)->date = (o)->date;                                                                                  \
    (out)->lastUpdate = (o)->lastUpdate;                                                                      \
    (out)->closeDate = (o)->closeDate;                                                                        \
    memset(&(out)->validityDate, 0, sizeof(out)->validityDate);                                               \
  } while (0)

PDLL_EXPORT int32_t PDLL_CALL GetOrderDetails(TConnectorOrderOut *out) {
  orders_init();
  if (!out) return NL_INVALID_ARGS;
  if (out->version > 0) return NL_VERSION_NOT_SUPPORTED;
  int32_t rc = sim_routing_status();
  if (rc != NL_OK) return rc;
  pthread_mutex_lock(&ob.mu);
  SimOrder *o = find_order(&out->orderId);
  if (!o) {
    pthread_mutex_unlock(&ob.mu);
    return NL_NOT_FOUND;
  }
  out->orderId.localOrderId = o->localId;
  out->accountId.brokerId = o->brokerId;
  out_string(out->accountId.accountId, &out->accountId.accountIdLength, o->account);
  out_string(out->accountId.subAccountId, &out->accountId.subAccountIdLength, o->subAccount);
  out_string(out->assetId.ticker, &out->assetId.tickerLength, o->ticker);
  out_string(out->assetId.exchange, &out->assetId.exchangeLength, o->exchange);
  out->assetId.feedType = 0;
  COPY_ORDER_FIELDS(out, o);
  out_string(out->textMessage, &out->textMessageLength, o->text);
  pthread_mutex_unlock(&ob.mu);
  return NL_OK;
}

/* ---- The login's accounts: GetAccountCount, GetAccounts (count, then fill), GetAccountDetails ---- */

/* The accounts the DLL knows: none until routing has reached the broker. */
static int32_t known_accounts(int32_t *count) {
  int32_t rc = sim_routing_status();
  if (rc == NL_MARKET_ONLY || rc == NL_NOT_INITIALIZED) return rc;
  *count = rc == NL_OK && sim_broker_connected() ? SIM_ACCOUNT_COUNT : 0;
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL GetAccountCount(void) {
  int32_t count = 0, rc = known_accounts(&count);
  return rc == NL_OK ? count : rc;
}

/* Fills out[startDest + i] with the account startSource + i, for i < count and while there is one;
 * returns how many it filled. Each identifier's strings are out strings (profitdll.h). */
PDLL_EXPORT int32_t PDLL_CALL GetAccounts(int32_t startSource, int32_t startDest, int32_t count,
                                          TConnectorAccountIdentifierOut *out) {
  if (!out || startSource < 0 || startDest < 0 || count < 0) return NL_INVALID_ARGS;
  int32_t total = 0, rc = known_accounts(&total);
  if (rc != NL_OK) return rc;
  int32_t filled = 0;
  for (int32_t i = startSource; i < total && filled < count; i++, filled++) {
    TConnectorAccountIdentifierOut *a = &out[startDest + filled];
    if (a->version > 0) return NL_VERSION_NOT_SUPPORTED;
    wchar16 account[ACCOUNT_UNITS], none[1] = {0};
    wfrom_ascii(account, SIM_ACCOUNTS[i].account, ACCOUNT_UNITS);
    a->brokerId = SIM_ACCOUNTS[i].brokerId;
    out_string(a->accountId, &a->accountIdLength, account);
    out_string(a->subAccountId, &a->subAccountIdLength, none);
    a->reserved = 0;
  }
  return filled;
}

/* The account named by out->accountId: its broker's name and its holder, as out strings. */
PDLL_EXPORT int32_t PDLL_CALL GetAccountDetails(TConnectorTradingAccountOut *out) {
  if (!out) return NL_INVALID_ARGS;
  if (out->version > 1) return NL_VERSION_NOT_SUPPORTED;
  int32_t total = 0, rc = known_accounts(&total);
  if (rc != NL_OK) return rc;
  if (out->accountId.brokerId <= 0 || !wlen(out->accountId.accountId)) return NL_INVALID_ARGS;
  for (int32_t i = 0; i < total; i++) {
    const SimAccount *acc = &SIM_ACCOUNTS[i];
    if (acc->brokerId != out->accountId.brokerId || !weq_ascii(out->accountId.accountId, acc->account)) continue;
    if (wlen(out->accountId.subAccountId)) return NL_NOT_FOUND; /* no sub-accounts here */
    wchar16 broker[64], holder[64], none[1] = {0};
    wfrom_ascii(broker, acc->broker, 64);
    wfrom_ascii(holder, acc->holder, 64);
    out_string(out->brokerName, &out->brokerNameLength, broker);
    out_string(out->ownerName, &out->ownerNameLength, holder);
    out_string(out->subOwnerName, &out->subOwnerNameLength, none);
    out->accountFlags = CA_IS_ENABLED;
    if (out->version >= 1) out->accountType = 0;
    return NL_OK;
  }
  return NL_NOT_FOUND;
}

/* Calls proc for each order of the account, on the caller's thread, until it returns 0. */
PDLL_EXPORT int32_t PDLL_CALL EnumerateAllOrders(const TConnectorAccountIdentifier *account, uint8_t version,
                                                 int64_t param, TConnectorEnumerateOrdersProc proc) {
  orders_init();
  if (!account || !proc) return NL_INVALID_ARGS;
  if (version > 0) return NL_VERSION_NOT_SUPPORTED;
  int32_t rc = sim_routing_status();
  if (rc != NL_OK) return rc;
  if (account->brokerId <= 0 || !wlen(account->accountId)) return NL_INVALID_ARGS;
  /* A copy, so proc may call the DLL again without deadlocking on the order lock. */
  pthread_mutex_lock(&ob.mu);
  SimOrder *copy = ob.count ? malloc((size_t)ob.count * sizeof *copy) : NULL;
  int n = 0;
  int failed = ob.count && !copy;
  for (int i = 0; copy && i < ob.count; i++)
    if (same_account(&ob.orders[i], account)) copy[n++] = ob.orders[i];
  pthread_mutex_unlock(&ob.mu);
  if (failed) return NL_INTERNAL_ERROR;
  for (int i = 0; i < n; i++) {
    const SimOrder *o = &copy[i];
    TConnectorOrder out = {.version = 0,
                           .orderId = {0, o->localId, o->clOrdId},
                           .accountId = {0, o->brokerId, o->account, o->subAccount, 0},
                           .assetId = {0, o->ticker, o->exchange, 0},
                           .textMessage = o->text};
    COPY_ORDER_FIELDS(&out, o);
    if (!proc(&out, param)) break;
  }
  free(copy);
  return NL_OK;
}

/* ---- simulator-only controls ---- */

/* 0: fill against the book (default); 1: hold, orders rest until canceled; 2: reject every order. */
PDLL_EXPORT int32_t SimSetOrderMode(int32_t mode) {
  orders_init();
  if (mode < MODE_MATCH || mode > MODE_REJECT) return NL_INVALID_ARGS;
  pthread_mutex_lock(&ob.mu);
  ob.mode = mode;
  ob.dirty = 1;
  pthread_mutex_unlock(&ob.mu);
  sim_signal();
  return NL_OK;
}

/* Executes qty of a working order at price (on its tick grid), whatever the book says. */
PDLL_EXPORT int32_t SimFillOrder(int64_t localOrderId, int64_t qty, double price) {
  orders_init();
  if (qty <= 0 || !(isfinite(price) && price > 0)) return NL_INVALID_ARGS;
  pthread_mutex_lock(&ob.mu);
  TConnectorOrderIdentifier id = {0, localOrderId, NULL};
  SimOrder *o = localOrderId ? find_order(&id) : NULL;
  int32_t rc = NL_OK;
  if (!o) rc = NL_NOT_FOUND;
  else if (!is_working(o) || o->status == ORDER_STATUS_PENDING_NEW || qty > o->qty - o->traded ||
           !on_grid(o, price))
    rc = NL_INVALID_ARGS;
  else {
    o->traded += qty;
    o->tradedValue += (double)qty * price;
    ob.stats.fills++;
    if (o->traded == o->qty) close_order(o, ORDER_STATUS_FILLED, NULL);
    else {
      if (o->status == ORDER_STATUS_NEW || o->status == ORDER_STATUS_REPLACED)
        o->status = ORDER_STATUS_PARTIALLY_FILLED;
      touch(o, 0);
    }
    journal_update(o);
  }
  pthread_mutex_unlock(&ob.mu);
  if (rc == NL_OK) sim_signal();
  return rc;
}

/* Forgets every order: a new trading day at the broker. */
PDLL_EXPORT int32_t SimResetOrders(void) {
  orders_init();
  pthread_mutex_lock(&ob.mu);
  ob.count = 0;
  ob.dirty = ob.resting = 0;
  memset(&ob.stats, 0, sizeof ob.stats);
  if (journalFd >= 0) {
    Line l = {.n = 0};
    put(&l, "Z");
    journal_write(&l);
  }
  pthread_mutex_unlock(&ob.mu);
  return NL_OK;
}

/* Orders accepted by SendOrder, broker rejections, cancels, changes, fills and order callbacks. */
PDLL_EXPORT int32_t SimGetOrderStats(SimOrderStats *out) {
  orders_init();
  if (!out) return NL_INVALID_ARGS;
  pthread_mutex_lock(&ob.mu);
  *out = ob.stats;
  pthread_mutex_unlock(&ob.mu);
  return NL_OK;
}
