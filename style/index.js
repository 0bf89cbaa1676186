import './base.css';
import './evidence.css';
