import './base.css';
import './evidence.css';
import './runs.css';
import './launch.css';
import './verify.css';
