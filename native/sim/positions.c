/* The simulated broker's positions: EnumerateAllPositionAssets and GetPositionV2 (docs/native.md,
 * positions). The broker keeps one position per account and asset, moved by every fill of an order
 * on that account, whoever sent it: Tape's orders filled on the book or by SimFillOrder, triggered
 * stop-limits, and trades made in another terminal (SimExternalTrade). A fill that adds to the
 * position (or opens it) moves the average to the weighted mean; one that reduces it keeps the
 * average; one that goes through zero opens the rest at the fill's price. The day's buys and sells
 * are counted apart, with their averages. Positions live under ob.mu with the orders, outlive
 * DLLFinalize like them, and are rebuilt from the journal's F lines (journal.c). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "positions.h"
#include "wstr.h"

#define MAX_POSITIONS 65536

typedef struct {
  int32_t brokerId;
  wchar16 account[ACCOUNT_UNITS], subAccount[ACCOUNT_UNITS];
  wchar16 ticker[TICKER_UNITS], exchange[EXCHANGE_UNITS];
  int64_t open;   /* signed: + long, - short */
  double average; /* of the open quantity; 0 when flat */
  int64_t buyQty, sellQty;
  double buyValue, sellValue; /* Σ qty × price of the day's buys and sells */
} SimPosition;

/* Under ob.mu. */
static struct {
  SimPosition *p;
  int count, cap;
} positions;

static SimPosition *find_locked(int32_t brokerId, const wchar16 *account, const wchar16 *subAccount,
                                const wchar16 *ticker, const wchar16 *exchange) {
  for (int i = 0; i < positions.count; i++) {
    SimPosition *p = &positions.p[i];
    if (p->brokerId == brokerId && weq(p->account, account) && weq(p->subAccount, subAccount) &&
        weq(p->ticker, ticker) && weq(p->exchange, exchange))
      return p;
  }
  return NULL;
}

void positions_apply_locked(const SimOrder *o, int64_t qty, double price) {
  SimPosition *p = find_locked(o->brokerId, o->account, o->subAccount, o->ticker, o->exchange);
  if (!p) {
    if (positions.count == positions.cap) {
      int cap = positions.cap ? positions.cap * 2 : 64;
      SimPosition *grown = cap <= MAX_POSITIONS ? realloc(positions.p, (size_t)cap * sizeof *grown) : NULL;
      if (!grown) {
        /* The fill stands on its order; only the position could not be kept, and says so. */
        fprintf(stderr, "profitdll_sim: no room for another position (%d kept)\n", positions.count);
        return;
      }
      positions.p = grown;
      positions.cap = cap;
    }
    p = &positions.p[positions.count++];
    memset(p, 0, sizeof *p);
    p->brokerId = o->brokerId;
    wcopy(p->account, o->account, ACCOUNT_UNITS);
    wcopy(p->subAccount, o->subAccount, ACCOUNT_UNITS);
    wcopy(p->ticker, o->ticker, TICKER_UNITS);
    wcopy(p->exchange, o->exchange, EXCHANGE_UNITS);
  }
  int buy = o->side == ORDER_SIDE_BUY;
  if (buy) {
    p->buyQty += qty;
    p->buyValue += (double)qty * price;
  } else {
    p->sellQty += qty;
    p->sellValue += (double)qty * price;
  }
  int64_t held = p->open < 0 ? -p->open : p->open;
  if (p->open == 0 || (p->open > 0) == buy)
    p->average = ((double)held * p->average + (double)qty * price) / (double)(held + qty);
  else if (qty > held)
    p->average = price; /* through zero: what is left over opens the other way at this price */
  p->open += buy ? qty : -qty;
  if (p->open == 0) p->average = 0;
}

void positions_fill_locked(const SimOrder *o, int64_t qty, double price) {
  journal_fill(o, qty, price);
  positions_apply_locked(o, qty, price);
}

void positions_reset_locked(void) { positions.count = 0; }

int32_t sim_known_account(const TConnectorAccountIdentifier *a) {
  if (a->brokerId <= 0 || !wlen(a->accountId) || wlen(a->accountId) >= ACCOUNT_UNITS ||
      wlen(a->subAccountId) >= ACCOUNT_UNITS)
    return NL_INVALID_ARGS;
  if (wlen(a->subAccountId)) return NL_NOT_FOUND; /* the simulated accounts have no sub-accounts */
  for (int i = 0; i < SIM_ACCOUNT_COUNT; i++)
    if (SIM_ACCOUNTS[i].brokerId == a->brokerId && weq_ascii(a->accountId, SIM_ACCOUNTS[i].account)) return NL_OK;
  return NL_NOT_FOUND;
}

/* What a position request gets before it looks: the session's code, then the account's. */
static int32_t position_request(const TConnectorAccountIdentifier *account) {
  int32_t rc = sim_routing_status();
  return rc == NL_OK ? sim_known_account(account) : rc;
}

/* The quantity working orders would take off the position (their leaves on the closing side). */
static int64_t closing_leaves_locked(const SimPosition *p) {
  int closing = p->open > 0 ? ORDER_SIDE_SELL : ORDER_SIDE_BUY;
  int64_t leaves = 0;
  for (int i = 0; p->open != 0 && i < ob.count; i++) {
    const SimOrder *o = &ob.orders[i];
    if (o->side == closing && is_working(o) && o->brokerId == p->brokerId && weq(o->account, p->account) &&
        weq(o->subAccount, p->subAccount) && weq(o->ticker, p->ticker) && weq(o->exchange, p->exchange))
      leaves += o->qty - o->traded;
  }
  return leaves;
}

/* ---- the DLL's exports ---- */

PDLL_EXPORT int32_t PDLL_CALL EnumerateAllPositionAssets(const TConnectorAccountIdentifier *account, uint8_t version,
                                                         int64_t param, TConnectorEnumerateAssetProc proc) {
  orders_init();
  if (!account || !proc) return NL_INVALID_ARGS;
  if (version > 0) return NL_VERSION_NOT_SUPPORTED;
  int32_t rc = position_request(account);
  if (rc != NL_OK) return rc;
  /* A copy of the assets, so proc may call the DLL (GetPositionV2) without deadlocking. */
  pthread_mutex_lock(&ob.mu);
  SimPosition *copy = positions.count ? malloc((size_t)positions.count * sizeof *copy) : NULL;
  int n = 0, failed = positions.count && !copy;
  for (int i = 0; copy && i < positions.count; i++) {
    const SimPosition *p = &positions.p[i];
    if (p->brokerId == account->brokerId && weq(p->account, account->accountId) &&
        weq(p->subAccount, account->subAccountId))
      copy[n++] = *p;
  }
  pthread_mutex_unlock(&ob.mu);
  if (failed) return NL_INTERNAL_ERROR;
  for (int i = 0; i < n; i++) {
    TConnectorAssetIdentifier asset = {0, copy[i].ticker, copy[i].exchange, 0};
    if (proc(&asset, param)) break;
  }
  free(copy);
  return NL_OK;
}

PDLL_EXPORT int32_t PDLL_CALL GetPositionV2(TConnectorTradingAccountPosition *pos) {
  orders_init();
  if (!pos) return NL_INVALID_ARGS;
  if (pos->version > 0) return NL_VERSION_NOT_SUPPORTED;
  int32_t rc = position_request(&pos->accountId);
  if (rc != NL_OK) return rc;
  if (!wlen(pos->assetId.ticker) || !wlen(pos->assetId.exchange)) return NL_INVALID_ARGS;
  pthread_mutex_lock(&ob.mu);
  const TConnectorAccountIdentifier *a = &pos->accountId;
  const SimPosition *p = find_locked(a->brokerId, a->accountId, a->subAccountId, pos->assetId.ticker,
                                     pos->assetId.exchange);
  if (!p) {
    pthread_mutex_unlock(&ob.mu);
    return NL_NO_POSITION;
  }
  int64_t held = p->open < 0 ? -p->open : p->open;
  int64_t closing = closing_leaves_locked(p);
  pos->openQuantity = held;
  pos->openAveragePrice = p->average;
  pos->openSide = p->open > 0 ? POSITION_SIDE_BUY : p->open < 0 ? POSITION_SIDE_SELL : POSITION_SIDE_NONE;
  pos->dailyAverageSellPrice = p->sellQty ? p->sellValue / (double)p->sellQty : 0;
  pos->dailySellQuantity = p->sellQty;
  pos->dailyAverageBuyPrice = p->buyQty ? p->buyValue / (double)p->buyQty : 0;
  pos->dailyBuyQuantity = p->buyQty;
  /* No settlement cycle, custody blocks or allocations at this broker: those buckets are 0. */
  pos->dailyQuantityD1 = pos->dailyQuantityD2 = pos->dailyQuantityD3 = 0;
  pos->dailyQuantityBlocked = pos->dailyQuantityAlloc = pos->dailyQuantityProvision = 0;
  pos->dailyQuantityPending = closing;
  pos->dailyQuantity = held;
  pos->dailyQuantityAvailable = held > closing ? held - closing : 0;
  pthread_mutex_unlock(&ob.mu);
  return NL_OK;
}
