// The admin chunk (App.tsx loads it with React.lazy): only admins download it.
export { AdminScreen } from './AdminScreen.tsx';
export { FirstRun } from './FirstRun.tsx';
