import './style.css';
import { Explorer } from './app';

void new Explorer().start();
