// The login form. After login the officer goes back to the page they asked for — only ever a
// path on this desk (`/…`, not `//elsewhere`), so the link cannot send them off-site.
import { $ } from './dom.js';
import { postJson } from './api.js';

function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  return /^\/(?![/\\])/.test(next) && !next.startsWith('/login') ? next : '/';
}

const MESSAGES = {
  401: '用户名或密码错误',
  429: '登录失败次数过多，请 15 分钟后再试',
  400: '请填写用户名和密码',
};

$('#login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('#error');
  err.textContent = '';
  $('#submit').disabled = true;
  const r = await postJson('/api/v1/login', { name: $('#name').value.trim(), password: $('#password').value });
  $('#submit').disabled = false;
  if (r.ok) {
    location.assign(nextPath());
    return;
  }
  $('#password').value = '';
  err.textContent = r.status === 0 ? '无法连接值班台服务' : MESSAGES[r.status] || `登录失败（HTTP ${r.status}）`;
});
