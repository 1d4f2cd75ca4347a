/* ProfitDLL types shared by the simulator and the capture shim (see shared/profitdll/API.md).
 * Strings are UTF-16 (Delphi PWideChar), never wchar_t, which is 32-bit on Linux. */
#ifndef TAPE_PROFITDLL_H
#define TAPE_PROFITDLL_H
#include <stdint.h>

#ifdef _WIN32
#define PDLL_CALL __stdcall /* ignored on x64, where there is one convention */
#define PDLL_EXPORT __declspec(dllexport)
#else
#define PDLL_CALL
#define PDLL_EXPORT __attribute__((visibility("default")))
#endif

typedef uint16_t wchar16;

#pragma pack(push, 1)
typedef struct {
  const wchar16 *ticker;
  const wchar16 *bolsa;
  int32_t feed;
} TAssetIDRec;
#pragma pack(pop)

#define NL_OK 0
#define NL_INTERNAL_ERROR ((int32_t)0x80000001u)
#define NL_NOT_INITIALIZED ((int32_t)0x80000002u)
#define NL_INVALID_ARGS ((int32_t)0x80000003u)
#define NL_WAITING_SERVER ((int32_t)0x80000004u)
#define NL_NO_LOGIN ((int32_t)0x80000005u)
#define NL_NO_LICENSE ((int32_t)0x80000006u)
#define NL_OUT_OF_RANGE ((int32_t)0x80000009u)
#define NL_MARKET_ONLY ((int32_t)0x8000000Au)
#define NL_NO_POSITION ((int32_t)0x8000000Bu)
#define NL_NOT_FOUND ((int32_t)0x8000000Cu)
#define NL_VERSION_NOT_SUPPORTED ((int32_t)0x8000000Du)
#define NL_EXCHANGE_UNKNOWN ((int32_t)0x8000000Fu)
#define NL_DUPLICATE_RESOURCE ((int32_t)0x8000001Au)
#define NL_NO_PASSWORD ((int32_t)0x8000001Cu)
#define NL_NO_USER ((int32_t)0x8000001Du)
#define NL_INVALID_TICKER ((int32_t)0x8000001Fu)
#define NL_NOT_MASTER_ACCOUNT ((int32_t)0x80000020u)

/* TStateCallback connection types */
#define CONN_LOGIN 0
#define CONN_ROUTING 1
#define CONN_MARKET_DATA 2
#define CONN_MARKET_LOGIN 3

typedef void(PDLL_CALL *TStateCallback)(int32_t connStateType, int32_t result);
typedef void(PDLL_CALL *TNewTradeCallback)(TAssetIDRec asset, const wchar16 *date, uint32_t tradeNumber, double price,
                                           double volume, int32_t qty, int32_t buyAgent, int32_t sellAgent,
                                           int32_t tradeType, uint8_t isEdit);
typedef void(PDLL_CALL *THistoryTradeCallback)(TAssetIDRec asset, const wchar16 *date, uint32_t tradeNumber,
                                               double price, double volume, int32_t qty, int32_t buyAgent,
                                               int32_t sellAgent, int32_t tradeType);
typedef void(PDLL_CALL *TNewDailyCallback)(TAssetIDRec asset, const wchar16 *date, double open, double high, double low,
                                           double close, double volume, double adjust, double maxLimit,
                                           double minLimit, double volBuyer, double volSeller, int32_t qty,
                                           int32_t trades, int32_t openContracts, int32_t qtyBuyer, int32_t qtySeller,
                                           int32_t tradesBuyer, int32_t tradesSeller);
typedef void(PDLL_CALL *TTinyBookCallback)(TAssetIDRec asset, double price, int32_t qty, int32_t side);
typedef void(PDLL_CALL *TInvalidTickerCallback)(TAssetIDRec asset);
typedef void(PDLL_CALL *TChangeStateTicker)(TAssetIDRec asset, const wchar16 *date, int32_t state);

#endif
