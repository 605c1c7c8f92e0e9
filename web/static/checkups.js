// The check-up scorecard, sortable by any column.
import { sortable } from './sortable.js';

sortable(document.getElementById('checkups-table'));
