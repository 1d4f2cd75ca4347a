/* The simulated broker's order book, shared by its two halves: orders.c (the DLL's order
 * exports and the broker's work) and journal.c (the book written to and read back from
 * TAPE_SIM_BROKER_JOURNAL). Internal to the simulator: nothing here is exported. */
#ifndef TAPE_SIM_ORDERS_H
#define TAPE_SIM_ORDERS_H

#include <pthread.h>

#include "sim.h"

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
  double newPrice, newStopPrice;
  int64_t newQty;
} SimOrder;

/* A stop-limit the broker holds off the book until a trade crosses its stop price; once
 * triggered its type is limit (stopPrice kept), as docs/native.md says the DLL reports it. */
static inline int is_waiting_stop(const SimOrder *o) { return o->type == ORDER_TYPE_STOP_LIMIT; }

typedef struct {
  int64_t sent, rejected, canceled, replaced, fills, callbacks;
} SimOrderStats;

typedef struct {
  pthread_mutex_t mu; /* taken after sim.mu, never before it */
  SimOrder *orders;
  int count, cap;
  int64_t nextLocalId;
  int mode;
  int dirty;   /* some order has work or a change to report */
  int resting; /* some order works on a book */
  SimOrderStats stats;
} OrderBook;

/* The book; ob.mu is taken after sim.mu, never before it. */
extern OrderBook ob;

static inline int is_working(const SimOrder *o) {
  return o->status == ORDER_STATUS_NEW || o->status == ORDER_STATUS_PARTIALLY_FILLED ||
         o->status == ORDER_STATUS_REPLACED || o->status == ORDER_STATUS_PENDING_NEW ||
         o->status == ORDER_STATUS_PENDING_CANCEL || o->status == ORDER_STATUS_PENDING_REPLACE;
}

/* Room for one more order in ob (under ob.mu); 0 at MAX_ORDERS or out of memory. */
int grow_locked(void);
/* The order of that local id (under ob.mu), or NULL. */
SimOrder *find_local_locked(int64_t localId);

/* A local id from the clock: ms since the epoch × 1000, so ids stay unique across runs. */
int64_t clock_id(void);

/* journal.c. Reads the journal back into ob and opens it for appending; once, at the first order
 * call (orders_init). */
void journal_open(void);
/* An order the DLL took (under ob.mu, so lines follow the order of events). */
void journal_send(const SimOrder *o);
/* The order's state after a change (under ob.mu); nothing when it has not changed. */
void journal_update(SimOrder *o);
/* A SendOrder the DLL refused with a code (returned): no order, but the call is on record. */
int64_t journal_refused(const TConnectorSendOrder *req, int64_t code);
/* SimResetOrders (under ob.mu): the orders before this line are forgotten. */
void journal_reset(void);

#endif
