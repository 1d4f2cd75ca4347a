/* The simulated market of one instrument (see market.h). Book conventions follow Nelogica's
 * examples as far as they are public: side 0 buy / 1 sell; position counts from the best
 * price (0 = top of book); atDelete and atDeleteFrom carry only side and position; atDeleteFrom
 * removes positions 0..position. The simulator's atEdit carries the level's or offer's new
 * totals. Initial books are sent as atAdd events with NULL arrays (no atFullBook). */
#include "market.h"

#include <math.h>
#include <string.h>

#include "wstr.h"

static const wchar16 EMPTY[1] = {0};

uint64_t sim_rand(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static int32_t rand_between(uint64_t *rng, int32_t lo, int32_t hi) {
  return lo + (int32_t)(sim_rand(rng) % (uint64_t)(hi - lo + 1));
}

/* A broker of agents.c's table. */
static int32_t rand_agent(uint64_t *rng) { return sim_agent_id((int)(sim_rand(rng) % (uint64_t)sim_agent_count())); }

int64_t tick_scale(double tick) {
  int64_t scale = llround(1.0 / tick);
  return scale > 1 && fabs((double)scale * tick - 1.0) < 1e-9 ? scale : 0;
}

int64_t start_ticks(double tick, double startPrice) {
  int64_t ticks = llround(startPrice / tick);
  return ticks < MIN_TICKS ? MIN_TICKS : ticks; /* every bid level stays positive */
}

double ticks_price(int64_t ticks, int64_t scale, double tick) {
  return scale ? (double)ticks / (double)scale : (double)ticks * tick;
}

double market_price(const Market *m, int64_t ticks) { return ticks_price(ticks, m->scale, m->tick); }

static TAssetIDRec asset(const Market *m) {
  TAssetIDRec a = {m->ticker, m->exchange, 0};
  return a;
}

static int32_t level_qty(const Level *l) {
  int32_t q = 0;
  for (int j = 0; j < l->n; j++) q += l->qty[j];
  return q;
}

static void level_fill(Market *m, Level *l, int64_t price, uint64_t *rng) {
  l->price = price;
  l->n = rand_between(rng, 1, MAX_OFFERS);
  for (int j = 0; j < l->n; j++) {
    l->offerId[j] = m->nextOfferId++;
    l->qty[j] = m->lot * rand_between(rng, 1, 20);
    l->agent[j] = rand_agent(rng);
  }
}

/* Position of offer j of level i in the side's offer list. */
static int32_t offer_position(const BookSide *s, int i, int j) {
  int32_t p = j;
  for (int k = 0; k < i; k++) p += s->level[k].n;
  return p;
}

static int32_t offer_count(const BookSide *s) { return offer_position(s, s->n, 0); }

static void emit_price_book(const Market *m, const Emitter *e, int32_t action, int32_t position, int side,
                            const Level *l) {
  if (!e->priceBooks || !e->priceBook) return;
  int32_t qty = l ? level_qty(l) : 0, count = l ? l->n : 0;
  e->priceBook(asset(m), action, position, side, qty, count, l ? market_price(m, l->price) : 0.0, NULL, NULL);
  atomic_fetch_add_explicit(&e->counters->priceBooks, 1, memory_order_relaxed);
}

static void emit_offer_book(const Market *m, const Emitter *e, int32_t action, int32_t position, int side,
                            const Level *l, int j) {
  if (!e->offerBooks || !e->offerBook) return;
  if (!l) { /* deletes: side and position only */
    e->offerBook(asset(m), action, position, side, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, EMPTY, NULL, NULL);
  } else {
    int add = action == BOOK_ADD;
    e->offerBook(asset(m), action, position, side, l->qty[j], l->agent[j], l->offerId[j],
                 market_price(m, l->price), 1, 1, (uint8_t)add, 1, 1, add ? e->date : EMPTY, NULL, NULL);
  }
  atomic_fetch_add_explicit(&e->counters->offerBooks, 1, memory_order_relaxed);
}

/* Inserts a new level with fresh offers at position i of a side. */
static void side_insert(Market *m, const Emitter *e, int sd, int i, int64_t price) {
  BookSide *s = &m->side[sd];
  memmove(&s->level[i + 1], &s->level[i], (size_t)(s->n - i) * sizeof(Level));
  Level *l = &s->level[i];
  level_fill(m, l, price, e->rng);
  s->n++;
  emit_price_book(m, e, BOOK_ADD, i, sd, l);
  int32_t base = offer_position(s, i, 0);
  for (int j = 0; j < l->n; j++) emit_offer_book(m, e, BOOK_ADD, base + j, sd, l, j);
}

/* Removes level i of a side with whatever offers it still holds. */
static void side_remove(Market *m, const Emitter *e, int sd, int i) {
  BookSide *s = &m->side[sd];
  int32_t base = offer_position(s, i, 0);
  for (int j = 0; j < s->level[i].n; j++) emit_offer_book(m, e, BOOK_DELETE, base, sd, NULL, 0);
  emit_price_book(m, e, BOOK_DELETE, i, sd, NULL);
  memmove(&s->level[i], &s->level[i + 1], (size_t)(s->n - i - 1) * sizeof(Level));
  s->n--;
}

static void emit_tiny(Market *m, const Emitter *e, int sd) {
  const Level *top = &m->side[sd].level[0];
  m->tinyPrice[sd] = top->price;
  m->tinyQty[sd] = level_qty(top);
  if (!e->quotes || !e->tinyBook) return;
  e->tinyBook(asset(m), market_price(m, top->price), m->tinyQty[sd], sd);
  atomic_fetch_add_explicit(&e->counters->tinyBooks, 1, memory_order_relaxed);
}

static void tiny_changes(Market *m, const Emitter *e) {
  for (int sd = SIDE_BUY; sd <= SIDE_SELL; sd++) {
    const Level *top = &m->side[sd].level[0];
    if (top->price != m->tinyPrice[sd] || level_qty(top) != m->tinyQty[sd]) emit_tiny(m, e, sd);
  }
}

void market_init(Market *m, const wchar16 *ticker, const wchar16 *exchange, double tick, int32_t lot,
                 double startPrice, uint64_t *rng) {
  memset(m, 0, sizeof *m);
  wcopy(m->ticker, ticker, TICKER_UNITS);
  wcopy(m->exchange, exchange, EXCHANGE_UNITS);
  m->tick = tick;
  m->lot = lot;
  m->scale = tick_scale(tick);
  m->startTicks = start_ticks(tick, startPrice);
  m->nextOfferId = 100000000000LL;
  market_reopen(m, m->startTicks, rng);
  m->open = m->high = m->low = m->close = m->startTicks;
}

void market_print(Market *m, double price) {
  if (!m->printed || price > m->printHigh) m->printHigh = price;
  if (!m->printed || price < m->printLow) m->printLow = price;
  m->printed = 1;
}

void market_reopen(Market *m, int64_t ticks, uint64_t *rng) {
  if (ticks < MIN_TICKS) ticks = MIN_TICKS;
  for (int i = 0; i < BOOK_LEVELS; i++) {
    level_fill(m, &m->side[SIDE_BUY].level[i], ticks - i, rng);
    level_fill(m, &m->side[SIDE_SELL].level[i], ticks + 1 + i, rng);
  }
  m->side[SIDE_BUY].n = m->side[SIDE_SELL].n = BOOK_LEVELS;
}

/* Liquidity arrives at a random level so the book does not drain away. */
static void replenish(Market *m, const Emitter *e) {
  int sd = (int)(sim_rand(e->rng) & 1);
  BookSide *s = &m->side[sd];
  int i = (int)(sim_rand(e->rng) % (uint64_t)s->n);
  Level *l = &s->level[i];
  if (l->n < MAX_OFFERS) {
    int j = l->n++;
    l->offerId[j] = m->nextOfferId++;
    l->qty[j] = m->lot * rand_between(e->rng, 1, 20);
    l->agent[j] = rand_agent(e->rng);
    emit_offer_book(m, e, BOOK_ADD, offer_position(s, i, j), sd, l, j);
  } else {
    int j = l->n - 1;
    l->qty[j] += m->lot * rand_between(e->rng, 1, 10);
    emit_offer_book(m, e, BOOK_EDIT, offer_position(s, i, j), sd, l, j);
  }
  emit_price_book(m, e, BOOK_EDIT, i, sd, l);
}

void market_trade(Market *m, const Emitter *e) {
  int buyer = (int)(sim_rand(e->rng) & 1); /* the aggressor */
  int sd = buyer ? SIDE_SELL : SIDE_BUY;   /* the side whose best level is hit */
  BookSide *s = &m->side[sd];
  Level *top = &s->level[0];
  int32_t qty = m->lot * rand_between(e->rng, 1, 10);
  int32_t total = level_qty(top);
  int canShift = buyer || m->side[SIDE_BUY].level[0].price - BOOK_LEVELS >= 1;
  if (qty >= total && !canShift) { /* the price floor holds: the level is refilled instead of swept */
    top->qty[top->n - 1] += qty - total + m->lot;
    emit_offer_book(m, e, BOOK_EDIT, top->n - 1, sd, top, top->n - 1);
    emit_price_book(m, e, BOOK_EDIT, 0, sd, top);
    total = level_qty(top);
  }
  if (qty > total) qty = total;
  int64_t ticks = top->price;
  double price = market_price(m, ticks);
  int32_t passive = top->agent[0], active = rand_agent(e->rng);
  m->tradeNumber++;
  market_print(m, price);
  if (e->quotes && e->trade) {
    e->trade(asset(m), e->date, m->tradeNumber, price, price * qty, qty, buyer ? active : passive,
             buyer ? passive : active, buyer ? TRADE_BUY_AGGRESSION : TRADE_SELL_AGGRESSION, 0);
    atomic_fetch_add_explicit(&e->counters->trades, 1, memory_order_relaxed);
  }
  for (int32_t left = qty; left > 0;) { /* offers fill in time priority */
    if (left >= top->qty[0]) {
      left -= top->qty[0];
      memmove(&top->offerId[0], &top->offerId[1], (size_t)(top->n - 1) * sizeof top->offerId[0]);
      memmove(&top->qty[0], &top->qty[1], (size_t)(top->n - 1) * sizeof top->qty[0]);
      memmove(&top->agent[0], &top->agent[1], (size_t)(top->n - 1) * sizeof top->agent[0]);
      top->n--;
      emit_offer_book(m, e, BOOK_DELETE, 0, sd, NULL, 0);
    } else {
      top->qty[0] -= left;
      left = 0;
      emit_offer_book(m, e, BOOK_EDIT, 0, sd, top, 0);
    }
  }
  if (top->n == 0) { /* swept: the book moves one tick in the aggressor's direction */
    side_remove(m, e, sd, 0);
    side_insert(m, e, sd, s->n, s->level[s->n - 1].price + (buyer ? 1 : -1));
    int other = 1 - sd;
    side_insert(m, e, other, 0, ticks);
    side_remove(m, e, other, m->side[other].n - 1);
  } else {
    emit_price_book(m, e, BOOK_EDIT, 0, sd, top);
  }
  if (m->trades == 0) m->open = m->high = m->low = ticks;
  if (ticks > m->high) m->high = ticks;
  if (ticks < m->low) m->low = ticks;
  m->close = ticks;
  m->volume += price * qty;
  m->qty += qty;
  m->trades++;
  if (buyer) {
    m->volBuyer += price * qty;
    m->qtyBuyer += qty;
    m->tradesBuyer++;
  } else {
    m->volSeller += price * qty;
    m->qtySeller += qty;
    m->tradesSeller++;
  }
  m->dailyDirty = 1;
  if (sim_rand(e->rng) & 1) replenish(m, e);
  tiny_changes(m, e);
}

void market_burst_trade(Market *m, const Emitter *e) {
  int buyer = (int)(sim_rand(e->rng) & 1);
  const Level *top = &m->side[buyer ? SIDE_SELL : SIDE_BUY].level[0];
  int32_t qty = m->lot * rand_between(e->rng, 1, 10);
  double price = market_price(m, top->price);
  m->tradeNumber++;
  market_print(m, price);
  e->trade(asset(m), e->date, m->tradeNumber, price, price * qty, qty, rand_agent(e->rng), rand_agent(e->rng),
           buyer ? TRADE_BUY_AGGRESSION : TRADE_SELL_AGGRESSION, 0);
  atomic_fetch_add_explicit(&e->counters->trades, 1, memory_order_relaxed);
}

void market_daily(Market *m, const Emitter *e) {
  m->dailyDirty = 0;
  if (!e->quotes || !e->daily) return;
  int futures = weq_ascii(m->exchange, "F");
  double reference = market_price(m, m->startTicks); /* the previous close / settlement */
  double maxLimit = market_price(m, m->startTicks + (m->startTicks + 9) / 10);
  double minLimit = market_price(m, m->startTicks - m->startTicks / 10);
  e->daily(asset(m), e->date, market_price(m, m->open), market_price(m, m->high), market_price(m, m->low),
           market_price(m, m->close), m->volume, futures ? reference : 0.0, maxLimit, minLimit, m->volBuyer,
           m->volSeller, m->qty, m->trades, futures ? 250000 : 0, m->qtyBuyer, m->qtySeller, m->tradesBuyer,
           m->tradesSeller);
  atomic_fetch_add_explicit(&e->counters->dailies, 1, memory_order_relaxed);
}

void market_snapshot_quotes(Market *m, const Emitter *e) {
  market_daily(m, e);
  emit_tiny(m, e, SIDE_BUY);
  emit_tiny(m, e, SIDE_SELL);
}

void market_snapshot_price_book(const Market *m, const Emitter *e) {
  for (int sd = SIDE_BUY; sd <= SIDE_SELL; sd++)
    for (int i = 0; i < m->side[sd].n; i++) emit_price_book(m, e, BOOK_ADD, i, sd, &m->side[sd].level[i]);
}

void market_snapshot_offer_book(const Market *m, const Emitter *e) {
  for (int sd = SIDE_BUY; sd <= SIDE_SELL; sd++) {
    const BookSide *s = &m->side[sd];
    for (int i = 0, p = 0; i < s->n; i++)
      for (int j = 0; j < s->level[i].n; j++) emit_offer_book(m, e, BOOK_ADD, p++, sd, &s->level[i], j);
  }
}

void market_clear_books(const Market *m, const Emitter *e) {
  for (int sd = SIDE_BUY; sd <= SIDE_SELL; sd++) {
    emit_price_book(m, e, BOOK_DELETE_FROM, m->side[sd].n - 1, sd, NULL);
    emit_offer_book(m, e, BOOK_DELETE_FROM, offer_count(&m->side[sd]) - 1, sd, NULL, 0);
  }
}
