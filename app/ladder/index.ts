// The price ladder, one lazy chunk loaded by the Trade screen.
export { Ladder } from './Ladder.tsx';
