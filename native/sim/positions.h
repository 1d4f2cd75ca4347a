/* The simulated broker's positions (positions.c): one per account and asset, moved by every fill of
 * an order on that account and read by EnumerateAllPositionAssets and GetPositionV2. They live under
 * ob.mu with the orders whose fills move them, so a fill and its position change are one step. */
#ifndef TAPE_SIM_POSITIONS_H
#define TAPE_SIM_POSITIONS_H

#include "orders.h"

/* A fill of qty at price of order o moves its account's position in o's asset (under ob.mu): the
 * journal gets an F line for it, then positions_apply_locked. */
void positions_fill_locked(const SimOrder *o, int64_t qty, double price);
/* The same move without a journal line: the journal's F lines read back (under ob.mu). */
void positions_apply_locked(const SimOrder *o, int64_t qty, double price);
/* SimResetOrders and a journal's Z line: no positions (under ob.mu). */
void positions_reset_locked(void);
/* NL_OK for one of the login's accounts (SIM_ACCOUNTS); NL_INVALID_ARGS for a malformed identifier,
 * NL_NOT_FOUND for any other account. */
int32_t sim_known_account(const TConnectorAccountIdentifier *a);

/* journal.c: an F line for a fill of order o (under ob.mu). */
void journal_fill(const SimOrder *o, int64_t qty, double price);
/* journal.c: an order the broker took from another terminal (SimExternalTrade), an E line. */
void journal_external(const SimOrder *o);

#endif
