/* The simulated broker's journal (TAPE_SIM_BROKER_JOURNAL): the order book written line by
 * line as it changes, and read back by the next process (docs/native.md, the broker journal). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orders.h"
#include "positions.h"
#include "wstr.h"

/* A real broker keeps its orders when the client's process dies; the simulator lives in that
 * process, so without help a kill -9 would take the "broker" with it. When the variable names a
 * file, every accepted SendOrder appends an S line with the whole order, every change of an
 * order a U line with its mutable state, a refused SendOrder an X line and SimResetOrders a Z
 * line, every fill an F line (before the order's U line; what positions are rebuilt from), an
 * order made in another terminal (SimExternalTrade) an E line like an S line: one write(2) per
 * line on an O_APPEND descriptor, so a killed process leaves whole lines (the page cache keeps
 * them: only the process died, so there is no fsync). The first login (or order call) of the
 * next process reads it back: the last state of every order since the
 * last Z is the broker's book again, including work the broker had not done yet (an
 * acknowledgement, a cancel), and local ids continue above the highest one in the file.
 *
 *   S <localId> <clOrdId> <brokerId> <account> <subAccount> <ticker> <exchange> <side> <type>
 *     <qty> <price> <stopPrice> <date>
 *   U <localId> <status> <qty> <price> <traded> <tradedValue> <work> <newPrice> <newQty>
 *     <lastUpdate> <closeDate> <text> <type> <stopPrice> <newStopPrice>
 *   X <code> <brokerId> <account> <ticker> <exchange> <side> <type> <qty> <price>
 *   F <localId> <qty> <price>
 *   E (the fields of an S line)
 *   Z
 *
 * Strings are '=' then their UTF-16 units: printable ASCII as is, anything else (space, '%',
 * non-ASCII) as %XXXX. Doubles are %.17g (exact), times the SYSTEMTIME's eight fields joined by
 * '.'. One S line is one order the DLL took: a test counts them to prove nothing went twice. */

#define JOURNAL_LINE 4096

static int journalFd = -1;

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

/* An order's S or E line: the whole order as the broker took it. */
static void journal_order(char kind, const SimOrder *o) {
  if (journalFd < 0) return;
  Line l = {.n = 0};
  put(&l, "%c %lld", kind, (long long)o->localId);
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

/* An order the DLL took (under ob.mu, so lines follow the order of events). */
void journal_send(const SimOrder *o) { journal_order('S', o); }

/* An order made in another terminal (SimExternalTrade): not one the DLL took from Tape, so not an S. */
void journal_external(const SimOrder *o) { journal_order('E', o); }

/* A fill of the order: what the account's position is rebuilt from (positions.c). */
void journal_fill(const SimOrder *o, int64_t qty, double price) {
  if (journalFd < 0) return;
  Line l = {.n = 0};
  put(&l, "F %lld %lld %.17g", (long long)o->localId, (long long)qty, price);
  journal_write(&l);
}

/* The order's state after a change (under ob.mu); nothing when it has not changed. */
void journal_update(SimOrder *o) {
  if (!o->journal) return;
  o->journal = 0;
  if (journalFd < 0) return;
  Line l = {.n = 0};
  put(&l, "U %lld %u %lld %.17g %lld %.17g %d %.17g %lld", (long long)o->localId, o->status, (long long)o->qty,
      o->price, (long long)o->traded, o->tradedValue, o->work, o->newPrice, (long long)o->newQty);
  put_time(&l, &o->lastUpdate);
  put_time(&l, &o->closeDate);
  put_wstr(&l, o->text);
  put(&l, " %u %.17g %.17g", o->type, o->stopPrice, o->newStopPrice); /* a stop's trigger and its change */
  journal_write(&l);
}

/* A SendOrder the DLL refused with a code: no order, but the call is on record. */
int64_t journal_refused(const TConnectorSendOrder *req, int64_t code) {
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

/* One journal line applied to ob (under ob.mu); malformed lines are skipped. */
static void journal_apply(char *line, int64_t *maxId) {
  char *save = NULL, *tok[16];
  int n = 0;
  for (char *t = strtok_r(line, " ", &save); t && n < 16; t = strtok_r(NULL, " ", &save)) tok[n++] = t;
  if (n == 0) return;
  if (!strcmp(tok[0], "Z")) {
    ob.count = 0;
    positions_reset_locked();
    return;
  }
  int64_t localId, v;
  if (!strcmp(tok[0], "F") && n == 4 && get_i64(tok[1], &localId)) {
    const SimOrder *o = find_local_locked(localId);
    int64_t qty;
    double price;
    if (o && get_i64(tok[2], &qty) && get_f64(tok[3], &price) && qty > 0) positions_apply_locked(o, qty, price);
    return;
  }
  if ((!strcmp(tok[0], "S") || !strcmp(tok[0], "E")) && n == 14 && get_i64(tok[1], &localId)) {
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
  if (!strcmp(tok[0], "U") && (n == 13 || n == 16) && get_i64(tok[1], &localId)) {
    SimOrder *o = find_local_locked(localId);
    if (!o) return;
    SimOrder u = *o;
    int64_t status, work, type = 0;
    int ok = get_i64(tok[2], &status) && get_i64(tok[3], &u.qty) && get_f64(tok[4], &u.price) &&
             get_i64(tok[5], &u.traded) && get_f64(tok[6], &u.tradedValue) && get_i64(tok[7], &work) &&
             get_f64(tok[8], &u.newPrice) && get_i64(tok[9], &u.newQty) && get_time(tok[10], &u.lastUpdate) &&
             get_time(tok[11], &u.closeDate) && get_wstr(tok[12], u.text, TEXT_UNITS) &&
             (n == 13 || (get_i64(tok[13], &type) && get_f64(tok[14], &u.stopPrice) &&
                          get_f64(tok[15], &u.newStopPrice)));
    if (!ok) return;
    if (n == 16) u.type = (uint8_t)type; /* a line of before stops has none */
    u.status = (uint8_t)status;
    u.work = (int)work;
    *o = u;
  }
}

void journal_open(void) {
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


void journal_reset(void) {
  if (journalFd < 0) return;
  Line l = {.n = 0};
  put(&l, "Z");
  journal_write(&l);
}
