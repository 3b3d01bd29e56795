import './style.css';
import { Explorer } from './app';

performance.mark('app:evaluated');
const explorer = new Explorer();
performance.mark('app:constructed');
void explorer.start();
