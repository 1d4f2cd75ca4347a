/* What the simulator's files share: the session and listings of profitdll_sim.c, the order
 * book of orders.c, and how the connector thread drives the orders. */
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
/* Wakes the connector thread (never call it while holding the orders lock). */
void sim_signal(void);
/* Now, in B3 time (UTC-3), as a SYSTEMTIME. */
void sim_b3_systemtime(TSystemTime *out);

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
#endif
