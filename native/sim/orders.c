/* The simulator's order routing: ProfitDLL's V2 order exports (SendOrder, SendChangeOrderV2,
 * SendCancelOrderV2, SendCancelAllOrdersV2, GetOrderDetails, EnumerateAllOrders,
 * SetOrderCallback) with the real return codes, and a broker that acknowledges, rejects,
 * cancels, changes and fills orders against the simulated books (docs/native.md, orders).
 * Requests are checked synchronously the way the DLL checks its arguments; what a broker
 * decides (lot, tick grid, price band) comes back asynchronously as a rejected order. Every
 * callback comes from the connector thread. Orders outlive DLLFinalize, as they live at the
 * broker: a process that logs in again finds them with EnumerateAllOrders. With
 * TAPE_SIM_BROKER_JOURNAL set, the broker also outlives the process: every accepted order and
 * every change is appended to that file and read back at the next start (journal.c). The book itself is orders.h. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orders.h"
#include "positions.h"
#include "wstr.h"

OrderBook ob = {.mu = PTHREAD_MUTEX_INITIALIZER};
static _Atomic(TConnectorOrderCallback) orderCallback;

/* A change is announced only when the broker connection is up as it happens: one made while it is
 * down never reaches the DLL, nor is it replayed when the connection comes back (the client reads
 * the orders again, as Tape does). */
static void touch(SimOrder *o, int work) {
  o->work |= work;
  o->notify = sim_broker_up();
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

int64_t clock_id(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) * 1000;
}

int grow_locked(void) {
  if (ob.count < ob.cap) return 1;
  int cap = ob.cap ? ob.cap * 2 : 256;
  SimOrder *grown = ob.count < MAX_ORDERS ? realloc(ob.orders, (size_t)cap * sizeof *grown) : NULL;
  if (!grown) return 0;
  ob.orders = grown;
  ob.cap = cap;
  return 1;
}

SimOrder *find_local_locked(int64_t localId) {
  for (int i = ob.count - 1; i >= 0; i--)
    if (ob.orders[i].localId == localId) return &ob.orders[i];
  return NULL;
}

static pthread_once_t journalOnce = PTHREAD_ONCE_INIT;
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

/* A buy stop-limit's limit is at or above its stop, a sell's at or below (the stop triggers, the
 * limit caps the price paid or received): the other way the order could never fill once triggered
 * by the trade that crosses the stop. */
static int stop_inverted(int side, double price, double stopPrice) {
  return side == ORDER_SIDE_BUY ? price < stopPrice : price > stopPrice;
}

/* Why the broker refuses a price, stop price or quantity, or NULL. */
static const char *broker_check(const SimOrder *o, const Market *m, int type, double price, double stopPrice,
                                int64_t qty) {
  if (qty % o->lot != 0) return "quantity is not a multiple of the lot";
  if (type == ORDER_TYPE_MARKET) return NULL;
  double reference = market_price(m, m->close ? m->close : m->startTicks);
  if (!on_grid(o, price)) return "price is not on the tick grid";
  if (fabs(price - reference) > PRICE_BAND * reference) return "price outside the tunnel";
  if (type != ORDER_TYPE_STOP_LIMIT) return NULL;
  if (!on_grid(o, stopPrice)) return "stop price is not on the tick grid";
  if (fabs(stopPrice - reference) > PRICE_BAND * reference) return "stop price outside the tunnel";
  if (stop_inverted(o->side, price, stopPrice))
    return o->side == ORDER_SIDE_BUY ? "buy stop-limit: limit price below the stop price"
                                     : "sell stop-limit: limit price above the stop price";
  return NULL;
}

/* A waiting stop the trades printed since the last step crossed (a buy stop: one at or above the
 * stop price; a sell stop: one at or below it) becomes a limit order, worked from this step on. */
static void trigger(SimOrder *o, const Market *m) {
  if (!m->printed) return;
  double eps = o->tick * 1e-6;
  if (o->side == ORDER_SIDE_BUY ? m->printHigh < o->stopPrice - eps : m->printLow > o->stopPrice + eps) return;
  o->type = ORDER_TYPE_LIMIT;
  /* Nothing fills while a stop waits, so a replaced stop is a new limit order now. */
  if (o->status == ORDER_STATUS_REPLACED) o->status = ORDER_STATUS_NEW;
  wfrom_ascii(o->text, "stop triggered", TEXT_UNITS);
  touch(o, 0);
}

/* One fill against the best opposite level, when the order's price reaches it. */
static void match(SimOrder *o, const Market *m) {
  int opposite = o->side == ORDER_SIDE_BUY ? SIDE_SELL : SIDE_BUY;
  const BookSide *s = &m->side[opposite];
  if (s->n == 0) return;
  const Level *l = &s->level[0];
  if (is_waiting_stop(o)) return; /* off the book until triggered */
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
  positions_fill_locked(o, q, price);
  ob.stats.fills++;
  if (o->traded == o->qty) close_order(o, ORDER_STATUS_FILLED, NULL);
  else {
    o->status = ORDER_STATUS_PARTIALLY_FILLED;
    touch(o, 0);
  }
}

static void acknowledge(SimOrder *o, const Market *m) {
  const char *why = ob.mode == MODE_REJECT ? "rejected by the simulated broker"
                                           : broker_check(o, m, o->type, o->price, o->stopPrice, o->qty);
  if (why) {
    ob.stats.rejected++;
    close_order(o, ORDER_STATUS_REJECTED, why);
    return;
  }
  o->status = ORDER_STATUS_NEW;
  touch(o, 0);
}

static void change(SimOrder *o, const Market *m) {
  double price = o->type == ORDER_TYPE_MARKET ? o->price : o->newPrice;
  /* Only a waiting stop has a stop price to change; a triggered one keeps the price it had. */
  double stop = is_waiting_stop(o) ? o->newStopPrice : o->stopPrice;
  const char *why = o->newQty <= o->traded ? "new quantity is not above the quantity filled"
                                           : broker_check(o, m, o->type, price, stop, o->newQty);
  if (why) {
    /* The order keeps working unchanged; the text says why the change was refused. */
    o->status = o->traded > 0 ? ORDER_STATUS_PARTIALLY_FILLED : ORDER_STATUS_NEW;
    wfrom_ascii(o->text, why, TEXT_UNITS);
  } else {
    o->qty = o->newQty;
    o->price = price;
    o->stopPrice = stop;
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
  /* Announcements still in flight when the connection dropped are lost with it. */
  int up = sim_broker_up();
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
        /* Before its acknowledgement (this step's or not yet) a stop sees no trade: only trades
         * printed after the broker took it count. */
        if (trading && is_waiting_stop(o) && is_working(o) && o->status != ORDER_STATUS_PENDING_NEW &&
            !(o->work & WORK_ACK))
          trigger(o, m);
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
      if (!up) o->notify = 0;
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
  for (int i = 0; i < count; i++) markets[i].printed = 0; /* the next step's stops see the next trades */
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

/* What a request to the broker gets: sim_routing_status's code, or NL_WAITING_SERVER while the
 * broker connection is down (SimSetRoutingState), the code the DLL gives while it waits for its
 * server; reads (GetOrderDetails, EnumerateAllOrders, positions) are not gated. */
static int32_t broker_status(void) {
  int32_t rc = sim_routing_status();
  return rc == NL_OK && !sim_broker_up() ? NL_WAITING_SERVER : rc;
}

PDLL_EXPORT int32_t PDLL_CALL SetOrderCallback(TConnectorOrderCallback cb) {
  atomic_store(&orderCallback, cb);
  return NL_OK;
}

PDLL_EXPORT int64_t PDLL_CALL SendOrder(const TConnectorSendOrder *req) {
  orders_init();
  if (!req) return NL_INVALID_ARGS;
  if (req->version > 1) return journal_refused(req, NL_VERSION_NOT_SUPPORTED);
  int32_t rc = broker_status();
  if (rc != NL_OK) return journal_refused(req, rc);
  if ((rc = check_account(&req->accountId, req->password)) != NL_OK) return journal_refused(req, rc);
  double tick;
  int32_t lot;
  int listing = sim_find_listing(req->assetId.ticker, req->assetId.exchange, &tick, &lot);
  if (listing < 0) return journal_refused(req, listing);
  int type = req->orderType, side = req->orderSide;
  if ((type != ORDER_TYPE_MARKET && type != ORDER_TYPE_LIMIT && type != ORDER_TYPE_STOP_LIMIT) ||
      (side != ORDER_SIDE_BUY && side != ORDER_SIDE_SELL) || req->quantity <= 0 || req->quantity > INT32_MAX ||
      (type != ORDER_TYPE_MARKET && !(isfinite(req->price) && req->price > 0)) ||
      (type == ORDER_TYPE_STOP_LIMIT &&
       (!(isfinite(req->stopPrice) && req->stopPrice > 0) || stop_inverted(side, req->price, req->stopPrice))))
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
                       const wchar16 *password, int work, double price, double stopPrice, int64_t qty) {
  int32_t rc = broker_status();
  if (rc == NL_OK) rc = check_account(account, password);
  if (rc != NL_OK) return rc;
  pthread_mutex_lock(&ob.mu);
  SimOrder *o = find_order(id);
  if (!o || !same_account(o, account)) rc = NL_NOT_FOUND;
  else if (!is_working(o) || (o->work & WORK_CANCEL)) rc = NL_INVALID_ARGS;
  else if (work == WORK_CHANGE) {
    /* A waiting stop's change may move its stop too (stopPrice > 0; otherwise it keeps its own). */
    double stop = stopPrice > 0 ? stopPrice : o->stopPrice;
    if (o->work & WORK_CHANGE) rc = NL_INVALID_ARGS; /* one change at a time */
    else if (is_waiting_stop(o) && stop_inverted(o->side, price, stop)) rc = NL_INVALID_ARGS;
    else {
      o->newPrice = price;
      o->newStopPrice = stop;
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
  return request(&req->accountId, &req->orderId, req->password, WORK_CANCEL, 0, 0, 0);
}

PDLL_EXPORT int32_t PDLL_CALL SendChangeOrderV2(const TConnectorChangeOrder *req) {
  orders_init();
  if (!req) return NL_INVALID_ARGS;
  if (req->version > 0) return NL_VERSION_NOT_SUPPORTED;
  if (req->quantity <= 0 || req->quantity > INT32_MAX || !(isfinite(req->price) && req->price > 0) ||
      !isfinite(req->stopPrice))
    return NL_INVALID_ARGS;
  return request(&req->accountId, &req->orderId, req->password, WORK_CHANGE, req->price, req->stopPrice,
                 req->quantity);
}

PDLL_EXPORT int32_t PDLL_CALL SendCancelAllOrdersV2(const TConnectorCancelAllOrders *req) {
  orders_init();
  if (!req) return NL_INVALID_ARGS;
  if (req->version > 0) return NL_VERSION_NOT_SUPPORTED;
  int32_t rc = broker_status();
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
  else if (!is_working(o) || o->status == ORDER_STATUS_PENDING_NEW || is_waiting_stop(o) || qty > o->qty - o->traded ||
           !on_grid(o, price))
    rc = NL_INVALID_ARGS;
  else {
    o->traded += qty;
    o->tradedValue += (double)qty * price;
    positions_fill_locked(o, qty, price);
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

/* Forgets every order and every position: a new trading day at the broker. */
PDLL_EXPORT int32_t SimResetOrders(void) {
  orders_init();
  pthread_mutex_lock(&ob.mu);
  ob.count = 0;
  ob.dirty = ob.resting = 0;
  memset(&ob.stats, 0, sizeof ob.stats);
  positions_reset_locked();
  journal_reset();
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

/* A trade made on the account in another terminal (Profit itself, another platform): the broker
 * books it as an order Tape did not send, with a new local id and no ClOrderID, already filled at
 * price, and announces it through the order callback like any other order; its fill moves the
 * position. Returns the local id, or a negative code like SendOrder. */
PDLL_EXPORT int64_t SimExternalTrade(const TConnectorAccountIdentifier *account, const wchar16 *ticker,
                                     const wchar16 *exchange, uint8_t side, int64_t qty, double price) {
  orders_init();
  if (!account) return NL_INVALID_ARGS;
  int32_t rc = sim_known_account(account);
  if (rc != NL_OK) return rc;
  SimOrder grid = {.lot = 1};
  int listing = sim_find_listing(ticker, exchange, &grid.tick, &grid.lot);
  if (listing < 0) return listing;
  if ((side != ORDER_SIDE_BUY && side != ORDER_SIDE_SELL) || qty <= 0 || qty > INT32_MAX || qty % grid.lot != 0 ||
      !(isfinite(price) && price > 0) || !on_grid(&grid, price))
    return NL_INVALID_ARGS;
  pthread_mutex_lock(&ob.mu);
  if (!grow_locked()) {
    pthread_mutex_unlock(&ob.mu);
    return NL_OUT_OF_RANGE;
  }
  if (!ob.nextLocalId) ob.nextLocalId = clock_id();
  SimOrder *o = &ob.orders[ob.count++];
  memset(o, 0, sizeof *o);
  o->localId = ob.nextLocalId++;
  o->brokerId = account->brokerId;
  wcopy(o->account, account->accountId, ACCOUNT_UNITS);
  wcopy(o->subAccount, account->subAccountId, ACCOUNT_UNITS);
  o->listing = listing;
  wcopy(o->ticker, ticker, TICKER_UNITS);
  wcopy(o->exchange, exchange, EXCHANGE_UNITS);
  o->tick = grid.tick;
  o->lot = grid.lot;
  o->side = side;
  o->type = ORDER_TYPE_LIMIT;
  o->qty = o->traded = qty;
  o->price = price;
  o->stopPrice = -1;
  o->tradedValue = (double)qty * price;
  close_order(o, ORDER_STATUS_FILLED, NULL);
  o->date = o->lastUpdate;
  journal_external(o);
  positions_fill_locked(o, qty, price);
  journal_update(o);
  int64_t localId = o->localId;
  pthread_mutex_unlock(&ob.mu);
  sim_signal();
  return localId;
}
