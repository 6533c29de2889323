// Shows whether the API answers. The full UI arrives with the frontend issue.
const status = document.getElementById('server-status');

async function check() {
  try {
    const response = await fetch('/api/health', { headers: { Accept: 'application/json' } });
    const body = await response.json();
    const ok = response.ok && body.status === 'ok';
    status.dataset.state = ok ? 'ok' : 'down';
    status.textContent = ok ? 'Server status: ok' : `Server status: ${response.status}`;
  } catch (error) {
    status.dataset.state = 'down';
    status.textContent = 'Server status: unreachable';
  }
}

check();
setInterval(check, 15000);
