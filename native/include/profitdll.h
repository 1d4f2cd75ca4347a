/* ProfitDLL types shared by the simulator and the capture shim (shared/profitdll/API.md and
 * Nelogica's manual 4.0.0.30). Strings are UTF-16 PWideChar: uint16_t, never wchar_t (32-bit
 * on Linux). Callbacks use stdcall on 32-bit Windows; the attribute is ignored on x64. */
#ifndef TAPE_PROFITDLL_H
#define TAPE_PROFITDLL_H
#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#define PDLL_CALL __stdcall
#define PDLL_EXPORT __declspec(dllexport)
#else
#define PDLL_CALL
#define PDLL_EXPORT __attribute__((visibility("default")))
#endif

typedef uint16_t wchar16;

/* Passed BY VALUE to callbacks; packed as in the Delphi declaration (20 bytes on 64-bit). */
#pragma pack(push, 1)
typedef struct {
  const wchar16 *ticker;
  const wchar16 *bolsa;
  int32_t feed;
} TAssetIDRec;
#pragma pack(pop)

/* V2 identifier (natural alignment), used by the invalid-ticker callback. */
typedef struct {
  uint8_t version;
  const wchar16 *ticker;
  const wchar16 *exchange;
  uint8_t feedType;
} TConnectorAssetIdentifier;

/* ---- Orders, V2 API (natural alignment, as in the manual's record declarations) ---- */
typedef struct {
  uint8_t version;
  int32_t brokerId;
  const wchar16 *accountId;
  const wchar16 *subAccountId;
  int64_t reserved;
} TConnectorAccountIdentifier;

typedef struct {
  uint8_t version;
  int64_t localOrderId;
  const wchar16 *clOrderId;
} TConnectorOrderIdentifier;

typedef struct {
  uint8_t version;
  TConnectorAccountIdentifier accountId;
  TConnectorAssetIdentifier assetId;
  const wchar16 *password;
  uint8_t orderType;
  uint8_t orderSide;
  double price;
  double stopPrice;
  int64_t quantity;
} TConnectorSendOrder;

typedef struct {
  uint8_t version;
  TConnectorAccountIdentifier accountId;
  TConnectorOrderIdentifier orderId;
  const wchar16 *password;
  double price;
  double stopPrice;
  int64_t quantity;
} TConnectorChangeOrder;

typedef struct {
  uint8_t version;
  TConnectorAccountIdentifier accountId;
  TConnectorOrderIdentifier orderId;
  const wchar16 *password;
} TConnectorCancelOrder;

typedef struct {
  uint8_t version;
  TConnectorAccountIdentifier accountId;
  const wchar16 *password;
} TConnectorCancelAllOrders;

typedef struct {
  uint16_t year, month, dayOfWeek, day, hour, minute, second, milliseconds;
} TSystemTime;

/* Out records: the caller owns the string buffers. On input a Length field is the buffer's
 * capacity in UTF-16 units; on output it is the units the string needs, NUL included. A NULL
 * or short buffer gets nothing or a truncated, terminated copy: call again with room. */
typedef struct {
  uint8_t version;
  int32_t brokerId;
  wchar16 *accountId;
  int32_t accountIdLength;
  wchar16 *subAccountId;
  int32_t subAccountIdLength;
  int64_t reserved;
} TConnectorAccountIdentifierOut;

/* GetAccountDetails: AccountID is read; the names are written as out strings (above). */
typedef struct {
  uint8_t version; /* 0, or 1 with accountType */
  TConnectorAccountIdentifier accountId;
  wchar16 *brokerName;
  int32_t brokerNameLength;
  wchar16 *ownerName;
  int32_t ownerNameLength;
  wchar16 *subOwnerName;
  int32_t subOwnerNameLength;
  uint32_t accountFlags; /* CA_IS_SUB_ACCOUNT | CA_IS_ENABLED */
  uint8_t accountType;   /* V1 */
} TConnectorTradingAccountOut;
enum { CA_IS_SUB_ACCOUNT = 1, CA_IS_ENABLED = 2 };

typedef struct {
  uint8_t version;
  wchar16 *ticker;
  int32_t tickerLength;
  wchar16 *exchange;
  int32_t exchangeLength;
  uint8_t feedType;
} TConnectorAssetIdentifierOut;

/* The order fields, shared by the Out record (GetOrderDetails) and the enumeration record. */
#define TAPE_ORDER_FIELDS \
  int64_t quantity;       \
  int64_t tradedQuantity; \
  int64_t leavesQuantity; \
  double price;           \
  double stopPrice;       \
  double averagePrice;    \
  uint8_t orderSide;      \
  uint8_t orderType;      \
  uint8_t orderStatus;    \
  uint8_t validityType;   \
  TSystemTime date;       \
  TSystemTime lastUpdate; \
  TSystemTime closeDate;  \
  TSystemTime validityDate;

typedef struct {
  uint8_t version;
  TConnectorOrderIdentifier orderId;
  TConnectorAccountIdentifierOut accountId;
  TConnectorAssetIdentifierOut assetId;
  TAPE_ORDER_FIELDS
  wchar16 *textMessage;
  int32_t textMessageLength;
} TConnectorOrderOut;

/* What EnumerateAllOrders hands its callback: DLL-owned strings, valid during the call only. */
typedef struct {
  uint8_t version;
  TConnectorOrderIdentifier orderId;
  TConnectorAccountIdentifier accountId;
  TConnectorAssetIdentifier assetId;
  TAPE_ORDER_FIELDS
  const wchar16 *textMessage;
} TConnectorOrder;

enum { ORDER_TYPE_MARKET = 1, ORDER_TYPE_LIMIT = 2, ORDER_TYPE_STOP_LIMIT = 4 };
enum { ORDER_SIDE_BUY = 1, ORDER_SIDE_SELL = 2 };
enum {
  ORDER_STATUS_NEW = 0,
  ORDER_STATUS_PARTIALLY_FILLED = 1,
  ORDER_STATUS_FILLED = 2,
  ORDER_STATUS_CANCELED = 4,
  ORDER_STATUS_REPLACED = 5,
  ORDER_STATUS_PENDING_CANCEL = 6,
  ORDER_STATUS_REJECTED = 8,
  ORDER_STATUS_PENDING_NEW = 10,
  ORDER_STATUS_PENDING_REPLACE = 14,
};

typedef void(PDLL_CALL *TConnectorOrderCallback)(TConnectorOrderIdentifier orderId);
typedef int32_t(PDLL_CALL *TConnectorEnumerateOrdersProc)(const TConnectorOrder *order, int64_t param);

/* Return codes (int32; errors have the high bit set). */
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

/* TStateCallback connection types and the results the simulator reports. */
enum {
  CONN_LOGIN = 0,
  CONN_ROUTING = 1,
  CONN_MARKET_DATA = 2,
  CONN_MARKET_LOGIN = 3,
};
enum { LOGIN_CONNECTED = 0, LOGIN_INVALID = 1, LOGIN_INVALID_PASS = 2 };
enum {
  ROUTING_DISCONNECTED = 0,
  ROUTING_CONNECTING = 1,
  ROUTING_CONNECTED = 2,
  ROUTING_BROKER_DISCONNECTED = 3,
  ROUTING_BROKER_CONNECTING = 4,
  ROUTING_BROKER_CONNECTED = 5
};
enum { MARKET_CONNECTING = 1, MARKET_WAITING = 2, MARKET_NOT_LOGGED = 3, MARKET_CONNECTED = 4 };
enum { ACTIVATION_VALID = 0, ACTIVATION_INVALID = 1 };

/* Book callbacks: action, side (0 buy / 1 sell). */
enum { BOOK_ADD = 0, BOOK_EDIT = 1, BOOK_DELETE = 2, BOOK_DELETE_FROM = 3, BOOK_FULL = 4 };
enum { SIDE_BUY = 0, SIDE_SELL = 1 };

/* Trade types (TNewTradeCallback nTradeType). */
enum { TRADE_CROSS = 1, TRADE_BUY_AGGRESSION = 2, TRADE_SELL_AGGRESSION = 3 };

typedef void(PDLL_CALL *TStateCallback)(int32_t connStateType, int32_t result);
typedef void(PDLL_CALL *THistoryCallback)(TAssetIDRec asset, int32_t broker, int32_t qty, int32_t tradedQty,
                                          int32_t leavesQty, int32_t side, double price, double stopPrice,
                                          double avgPrice, int64_t profitId, const wchar16 *orderType,
                                          const wchar16 *account, const wchar16 *holder, const wchar16 *clOrdId,
                                          const wchar16 *status, const wchar16 *date);
typedef void(PDLL_CALL *TOrderChangeCallback)(TAssetIDRec asset, int32_t broker, int32_t qty, int32_t tradedQty,
                                              int32_t leavesQty, int32_t side, double price, double stopPrice,
                                              double avgPrice, int64_t profitId, const wchar16 *orderType,
                                              const wchar16 *account, const wchar16 *holder,
                                              const wchar16 *clOrdId, const wchar16 *status, const wchar16 *date,
                                              const wchar16 *textMessage);
typedef void(PDLL_CALL *TAccountCallback)(int32_t broker, const wchar16 *brokerName, const wchar16 *accountId,
                                          const wchar16 *holderName);
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
typedef void(PDLL_CALL *TPriceBookCallback)(TAssetIDRec asset, int32_t action, int32_t position, int32_t side,
                                            int32_t qty, int32_t count, double price, void *arraySell,
                                            void *arrayBuy);
typedef void(PDLL_CALL *TOfferBookCallback)(TAssetIDRec asset, int32_t action, int32_t position, int32_t side,
                                            int32_t qty, int32_t agent, int64_t offerId, double price,
                                            uint8_t hasPrice, uint8_t hasQty, uint8_t hasDate, uint8_t hasOfferId,
                                            uint8_t hasAgent, const wchar16 *date, void *arraySell, void *arrayBuy);
typedef void(PDLL_CALL *TProgressCallback)(TAssetIDRec asset, int32_t progress);
typedef void(PDLL_CALL *TTinyBookCallback)(TAssetIDRec asset, double price, int32_t qty, int32_t side);
/* Nelogica's own examples declare the identifier by value; on x64 that is a pointer to a copy. */
typedef void(PDLL_CALL *TInvalidTickerCallback)(TConnectorAssetIdentifier asset);
typedef void(PDLL_CALL *TChangeStateTicker)(TAssetIDRec asset, const wchar16 *date, int32_t state);

/* ---- The current market-data API (manual 4.0.0.30): V2 trades and the price depth ----
 * SetTradeCallbackV2 / SetHistoryTradeCallbackV2 replace TNewTradeCallback / THistoryTradeCallback,
 * SubscribePriceDepth / SetPriceDepthCallback / GetPriceGroup replace SubscribePriceBook and
 * TPriceBookCallback. API.md gives the names and flags only: the record layouts and the update
 * types below are Tape's reading of the public bindings (docs/native.md, to verify on Windows),
 * mirrored field for field in native/binding.ts. */
typedef struct {
  uint8_t version;
  TSystemTime tradeDate; /* B3 local time */
  uint32_t tradeNumber;
  double price;
  int64_t quantity;
  double volume;
  int32_t buyAgent;
  int32_t sellAgent;
  uint8_t tradeType;
} TConnectorTrade;

/* One aggregated level of the price depth. Count precedes Quantity, as in every public
 * declaration of the record (Nelogica's Delphi example and the C# and Python bindings). */
typedef struct {
  uint8_t version;
  double price;
  uint32_t count;
  int64_t quantity;
  uint32_t priceGroupFlags; /* PG_IS_THEORIC */
} TConnectorPriceGroup;

/* The offsets docs/native.md lists and native/binding.ts declares: a change to either record
 * fails here first. */
_Static_assert(offsetof(TConnectorTrade, tradeDate) == 2 && offsetof(TConnectorTrade, tradeNumber) == 20 &&
                   offsetof(TConnectorTrade, price) == 24 && offsetof(TConnectorTrade, quantity) == 32 &&
                   offsetof(TConnectorTrade, volume) == 40 && offsetof(TConnectorTrade, buyAgent) == 48 &&
                   offsetof(TConnectorTrade, sellAgent) == 52 && offsetof(TConnectorTrade, tradeType) == 56 &&
                   sizeof(TConnectorTrade) == 64,
               "TConnectorTrade layout");
_Static_assert(offsetof(TConnectorPriceGroup, price) == 8 && offsetof(TConnectorPriceGroup, count) == 16 &&
                   offsetof(TConnectorPriceGroup, quantity) == 24 &&
                   offsetof(TConnectorPriceGroup, priceGroupFlags) == 32 && sizeof(TConnectorPriceGroup) == 40,
               "TConnectorPriceGroup layout");

enum { TC_IS_EDIT = 1, TC_LAST_PACKET = 2 };           /* TConnectorTradeCallback flags */
enum { PG_IS_THEORIC = 1 };                             /* TConnectorPriceGroup.PriceGroupFlags */
/* TConnectorPriceDepthCallback updateType: assumed to number as the V1 book actions do. */
enum { DEPTH_ADD = 0, DEPTH_EDIT = 1, DEPTH_DELETE = 2, DEPTH_DELETE_FROM = 3, DEPTH_FULL = 4 };

/* pTrade is the DLL's, valid during the callback only: read it there with TranslateTrade. */
typedef void(PDLL_CALL *TConnectorTradeCallback)(TConnectorAssetIdentifier asset, void *trade, uint32_t flags);
typedef void(PDLL_CALL *TConnectorPriceDepthCallback)(TConnectorAssetIdentifier asset, uint8_t side,
                                                      int32_t position, uint8_t updateType);
typedef int32_t(PDLL_CALL *TTranslateTrade)(void *trade, TConnectorTrade *out);
typedef int32_t(PDLL_CALL *TGetPriceGroup)(const TConnectorAssetIdentifier *asset, uint8_t side, int32_t position,
                                           TConnectorPriceGroup *out);


/* Exports whose prototype the simulator and Tape's callers share. GetHistoryTrades: dtStart and
 * dtEnd as DD/MM/YYYY HH:MM:SS in Brasília time; the trades follow on THistoryTradeCallback, with
 * TProgressCallback rising to 100 (API.md, history). */
PDLL_EXPORT int32_t PDLL_CALL GetHistoryTrades(const wchar16 *ticker, const wchar16 *exchange, const wchar16 *dtStart,
                                               const wchar16 *dtEnd);
/* GetLastDailyClose: the previous session's close into *close; `adjusted` asks for the close
 * adjusted for corporate events (futures: the settlement). */
PDLL_EXPORT int32_t PDLL_CALL GetLastDailyClose(const wchar16 *ticker, const wchar16 *exchange, double *close,
                                                int32_t adjusted);

/* ---- Positions (V2): EnumerateAllPositionAssets and GetPositionV2 ----
 * The manual's public excerpts do not give TConnectorTradingAccountPosition's layout; this is Tape's
 * reading of the public bindings (natural alignment), to verify on Windows (docs/native.md). The
 * caller fills version, accountId and assetId; the DLL fills the rest. openQuantity is unsigned,
 * its direction in openSide (1 buy, 2 sell, 0 when flat). */
typedef struct {
  uint8_t version;
  TConnectorAccountIdentifier accountId;
  TConnectorAssetIdentifier assetId;
  int64_t openQuantity;
  double openAveragePrice;
  uint8_t openSide;
  double dailyAverageSellPrice;
  int64_t dailySellQuantity;
  double dailyAverageBuyPrice;
  int64_t dailyBuyQuantity;
  int64_t dailyQuantityD1;
  int64_t dailyQuantityD2;
  int64_t dailyQuantityD3;
  int64_t dailyQuantityBlocked;
  int64_t dailyQuantityPending;
  int64_t dailyQuantityAlloc;
  int64_t dailyQuantityProvision;
  int64_t dailyQuantity;
  int64_t dailyQuantityAvailable;
} TConnectorTradingAccountPosition;
enum { POSITION_SIDE_NONE = 0, POSITION_SIDE_BUY = 1, POSITION_SIDE_SELL = 2 };

/* Called once per asset the account holds or traded today; a nonzero return stops the walk. */
typedef int32_t(PDLL_CALL *TConnectorEnumerateAssetProc)(const TConnectorAssetIdentifier *asset, int64_t param);

PDLL_EXPORT int32_t PDLL_CALL EnumerateAllPositionAssets(const TConnectorAccountIdentifier *account, uint8_t version,
                                                         int64_t param, TConnectorEnumerateAssetProc proc);
PDLL_EXPORT int32_t PDLL_CALL GetPositionV2(TConnectorTradingAccountPosition *pos);

#endif
