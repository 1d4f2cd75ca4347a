// The tape chunk (App.tsx loads it with React.lazy, like the chart): Times & Trades and the broker
// flow of the Trade screen's ticker.
export { BrokerFlow } from './BrokerFlow.tsx';
export { TimesAndTrades } from './TimesAndTrades.tsx';
