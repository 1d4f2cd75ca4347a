/* Tape capture shim: ProfitDLL callbacks that copy each event into a lock-free
 * single-producer/single-consumer ring; JS drains it in batches (docs/native.md). */
#ifndef TAPE_CAPTURE_H
#define TAPE_CAPTURE_H
#include "../include/profitdll.h"

#define TAPE_RECORD_BYTES 192

enum {
  REC_STATE = 1,
  REC_TRADE = 2,
  REC_HISTORY_TRADE = 3,
  REC_DAILY = 4,
  REC_TINY_BOOK = 5,
  REC_INVALID_TICKER = 6,
  REC_TICKER_STATE = 7,
};

#define REC_FLAG_TRUNCATED 1
#define REC_FLAG_EDIT 2
#endif
