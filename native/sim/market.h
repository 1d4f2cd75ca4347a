/* The simulator's market model for one instrument: a random walk on the tick grid, a price
 * book and an offer book of BOOK_LEVELS levels per side, and the day's statistics. Owned by
 * the connector thread only; it reports changes through the callbacks in an Emitter. */
#ifndef TAPE_SIM_MARKET_H
#define TAPE_SIM_MARKET_H
#include <stdatomic.h>

#include "../include/profitdll.h"

#define TICKER_UNITS 32
#define EXCHANGE_UNITS 8
#define BOOK_LEVELS 10
#define MAX_OFFERS 3 /* offers queued at one price level */
#define MIN_TICKS (BOOK_LEVELS + 1) /* the lowest best bid: every bid level stays positive */

typedef struct {
  int64_t price; /* ticks */
  int32_t n;
  int64_t offerId[MAX_OFFERS];
  int32_t qty[MAX_OFFERS];
  int32_t agent[MAX_OFFERS];
} Level;

typedef struct {
  Level level[BOOK_LEVELS + 1]; /* best first; one spare while a level is inserted */
  int32_t n;
} BookSide;

typedef struct {
  wchar16 ticker[TICKER_UNITS];
  wchar16 exchange[EXCHANGE_UNITS];
  double tick;
  int32_t lot;
  int64_t scale; /* 1/tick when that is an integer: prices are ticks / scale, exactly as printed */
  int64_t startTicks;
  BookSide side[2]; /* [SIDE_BUY] bids, [SIDE_SELL] asks */
  uint32_t tradeNumber;
  int64_t nextOfferId;
  /* the day */
  int64_t open, high, low, close;
  double volume, volBuyer, volSeller;
  int32_t qty, trades, qtyBuyer, qtySeller, tradesBuyer, tradesSeller;
  int dailyDirty;
  /* top of book last reported through TTinyBookCallback */
  int64_t tinyPrice[2];
  int32_t tinyQty[2];
  /* the range of the trades printed since the broker last looked (orders_step): stops trigger on it */
  double printHigh, printLow;
  int printed;
} Market;

/* Counts every callback the simulator makes (SimGetStats); written by the connector thread. */
typedef struct {
  _Atomic int64_t trades, dailies, priceBooks, offerBooks, tinyBooks, states, invalidTickers, tickerStates, accounts;
  _Atomic int64_t historyTrades, progress;
} SimCounters;

/* Where one instrument's events go during one step of the connector thread. */
typedef struct {
  TNewTradeCallback trade;
  TNewDailyCallback daily;
  TPriceBookCallback priceBook;
  TOfferBookCallback offerBook;
  TTinyBookCallback tinyBook;
  int quotes;     /* ticker subscribed: trades, daily, tiny book */
  int priceBooks; /* price book subscribed */
  int offerBooks; /* offer book subscribed */
  const wchar16 *date;
  SimCounters *counters;
  uint64_t *rng;
} Emitter;

uint64_t sim_rand(uint64_t *state);
/* 1/tick when that is an integer (prices are then ticks / scale, exactly as printed), else 0. */
int64_t tick_scale(double tick);
/* The start price on the tick grid, at least MIN_TICKS. */
int64_t start_ticks(double tick, double startPrice);
double ticks_price(int64_t ticks, int64_t scale, double tick);
void market_init(Market *m, const wchar16 *ticker, const wchar16 *exchange, double tick, int32_t lot,
                 double startPrice, uint64_t *rng);
double market_price(const Market *m, int64_t ticks);
/* A fresh book of BOOK_LEVELS levels a side around ticks (best bid ticks, best ask ticks + 1);
 * the day's statistics are left alone. */
void market_reopen(Market *m, int64_t ticks, uint64_t *rng);
/* A trade printed in m (the model's, a burst's or an injected one): widens the range of prices
 * the broker's waiting stops look at on its next step. */
void market_print(Market *m, double price);
/* One trade against the book, with the book, tiny book and daily changes it causes. */
void market_trade(Market *m, const Emitter *e);
/* A trade printed at the touch that leaves the model alone: benchmark bursts. */
void market_burst_trade(Market *m, const Emitter *e);
/* Everything a new subscriber needs: daily and top of book, or the whole book. */
void market_snapshot_quotes(Market *m, const Emitter *e);
void market_snapshot_price_book(const Market *m, const Emitter *e);
void market_snapshot_offer_book(const Market *m, const Emitter *e);
void market_daily(Market *m, const Emitter *e);
/* Empties subscribers' books (atDeleteFrom on both sides) before the instrument is re-seeded. */
void market_clear_books(const Market *m, const Emitter *e);
/* The brokers of agents.c: how many, and the B3 code of the i-th (0 <= i < count). */
int sim_agent_count(void);
int32_t sim_agent_id(int i);
#endif
