// Every sheet of the header, one import each; the order here is the order of their buttons.
import './compress';
import './health';
import './filter';
import './export';
import './compare';
import './translate';
import './closer';
import './analogy';

export { type SheetContext, type SheetDef, buttonId, sheetById, sheets } from './registry';
