// The corpus table, sortable by any column.
import { sortable } from './sortable.js';

sortable(document.getElementById('reports-table'));
