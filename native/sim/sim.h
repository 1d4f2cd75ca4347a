/* What the simulator's files share: the session and listings of profitdll_sim.c, the order
 * book of orders.c, the history of history.c, and how the connector thread drives them. */
#ifndef TAPE_SIM_SIM_H
#define TAPE_SIM_SIM_H
#include "market.h"

/* The trading accounts of the simulated login, at two brokers (TAccountCallback, GetAccounts). */
typedef struct {
  int32_t brokerId;
  const char *broker, *account, *holder;
} SimAccount;
#define SIM_ACCOUNT_COUNT 2
static const SimAccount SIM_ACCOUNTS[SIM_ACCOUNT_COUNT] = {
    {1982, "Corretora Simulada", "SIM-0001", "Tape Simulator"},
    {308, "Clear Simulada", "SIM-0002", "Tape Simulator"},
};

/* NL_OK when logged in with routing; otherwise the code an order function returns. */
int32_t sim_routing_status(void);
/* The listing's index, with its tick and lot; NL_INVALID_TICKER or NL_EXCHANGE_UNKNOWN. */
int32_t sim_find_listing(const wchar16 *ticker, const wchar16 *exchange, double *tick, int32_t *lot);
/* 1 once routing has reached the broker in this session: the DLL then knows the login's accounts. */
int sim_broker_connected(void);
/* 0 while SimSetRoutingState has the broker connection down: requests get NL_WAITING_SERVER and
 * the broker's changes go unannounced. 1 otherwise (an atomic read, safe under any lock). */
int sim_broker_up(void);
/* Wakes the connector thread (never call it while holding the orders lock). */
void sim_signal(void);
/* Now, in B3 time (UTC-3), as a SYSTEMTIME. */
void sim_b3_systemtime(TSystemTime *out);

/* A listing as GetHistoryTrades sees it, copied under the simulator's lock. */
typedef struct {
  int index;
  wchar16 ticker[TICKER_UNITS], exchange[EXCHANGE_UNITS];
  double tick, startPrice;
  int32_t lot;
  int subscribed;   /* SubscribeTicker is on for it */
  uint32_t session; /* the login it was asked in */
} SimListing;

/* NL_OK and the listing when the session serves market data; otherwise the code a market-data
 * request gets (NL_NOT_INITIALIZED, NL_NO_LOGIN, NL_NO_LICENSE, NL_INVALID_TICKER,
 * NL_EXCHANGE_UNKNOWN). */
int32_t sim_history_listing(const wchar16 *ticker, const wchar16 *exchange, SimListing *out);
/* The simulator's clock (SimSetClock) in B3 time, UTC-3: ms since the epoch of the B3 wall clock
 * read as if it were UTC, so ms / 86,400,000 is the B3 day. */
int64_t sim_b3_ms(void);

/* Where history.c's callbacks go on the connector thread. */
typedef struct {
  THistoryTradeCallback trade;
  TProgressCallback progress;
  SimCounters *counters;
  void (*mark)(int last); /* depth.c: told before each trade whether it ends the answer; may be NULL */
} HistoryOut;

/* Connector thread, each step: takes the history requests asked for, one a listing at a time,
 * and sends each active one a packet of trades and its progress. liveStartMs[i] is when listing
 * i's live market began in this session (sim_b3_ms), 0 while it has not. */
void history_step(const HistoryOut *out, const int64_t *liveStartMs, uint32_t session);
/* 1 while history requests wait or are being sent (connector thread, under sim.mu). */
int history_busy(void);
/* DLLFinalize, once the connector thread has stopped: forgets every request. */
void history_finalized(void);
/* The live market of today continues the history: m gets the day's statistics of the trades before
 * b3Ms, their count as its last trade number, and a book around the last price. */
void history_resume(Market *m, int64_t b3Ms, uint64_t *rng);

/* Connector thread: acknowledges, cancels, changes and fills orders against the markets, and
 * reports every changed order through the order callback. */
void orders_step(Market *markets, int count, int trading);
/* 1 when orders wait for the connector thread, 2 when some only rest on a book, else 0. */
int orders_busy(void);
/* DLLFinalize: forget the order callback. The orders stay: they live at the broker. */
void orders_finalized(void);
/* Once per process, before the first order call or login: opens the broker journal named by
 * TAPE_SIM_BROKER_JOURNAL and reloads the orders it holds. Call it holding no lock. */
void orders_init(void);
/* ---- depth.c: the current market-data API (V2 trades, price depth) over the V1 model ---- */
/* Connector thread: puts depth.c's adapters in the V1 slots of e / out for what has a V2 callback. */
void depth_route(Emitter *e);
void depth_route_history(HistoryOut *out);
/* The live trade callback to call: the V2 adapter when SetTradeCallbackV2 has one, else v1. */
TNewTradeCallback depth_trade(TNewTradeCallback v1);
/* Connector thread, before a price book snapshot of a listing: its depth copy starts empty. */
void depth_snapshot(const wchar16 *ticker, const wchar16 *exchange);
/* DLLFinalize: forgets the V2 callbacks, the depth copies and the V2 counters. */
void depth_finalized(void);
/* The V1 subscriptions SubscribePriceDepth and UnsubscribePriceDepth stand on (profitdll_sim.c). */
PDLL_EXPORT int32_t PDLL_CALL SubscribePriceBook(const wchar16 *ticker, const wchar16 *exchange);
PDLL_EXPORT int32_t PDLL_CALL UnsubscribePriceBook(const wchar16 *ticker, const wchar16 *exchange);
#endif
