// Korean and English strings of the live pages; the language comes from ?lang=, else the browser's.
(function () {
  "use strict";
  const STRINGS = {
    en: {
      "guest.title": "Live availability", "guest.property": "Resort", "guest.from": "From", "guest.to": "To",
      "guest.show": "Show", "guest.product": "Product", "guest.booking": "Booking progress",
      "guest.booking_id": "Booking number", "guest.follow": "Follow", "guest.signin": "Sign in",
      "guest.free": "left", "guest.none": "—", "guest.no_booking": "Enter a booking number to follow it.",
      "desk.title": "Front desk", "desk.arrivals": "Arrivals today", "desk.departures": "Departures today",
      "desk.in_house": "In house", "desk.occupancy": "Occupancy, next 14 nights", "desk.feed": "Live feed",
      "desk.empty": "Nobody", "desk.rooms": "rooms", "desk.departed": "Checked out today",
      "desk.no_shows": "No-shows", "desk.cancelled": "Cancelled", "kind.housekeeping": "Housekeeping",
      "hk.title": "Housekeeping", "hk.dirty": "Dirty", "hk.clean": "Clean", "hk.inspected": "Inspected",
      "hk.out_of_order": "Out of order",
      "status.connecting": "Connecting…", "status.live": "Live", "status.offline": "Reconnecting…",
      "status.refused": "Sign in as front desk staff to see this page.",
      "step.requested": "Requested", "step.convert": "Securing rooms", "step.pay": "Payment",
      "step.confirmed": "Confirmed", "status.pending": "In progress", "status.confirmed": "Confirmed",
      "status.failed": "Failed", "status.cancelling": "Cancelling", "status.cancelled": "Cancelled",
      "kind.hold": "Hold", "kind.booking": "Booking", "kind.inventory": "Inventory",
    },
    ko: {
      "guest.title": "실시간 객실 현황", "guest.property": "리조트", "guest.from": "시작일", "guest.to": "종료일",
      "guest.show": "보기", "guest.product": "상품", "guest.booking": "예약 진행 상황",
      "guest.booking_id": "예약 번호", "guest.follow": "따라가기", "guest.signin": "로그인",
      "guest.free": "남음", "guest.none": "—", "guest.no_booking": "예약 번호를 입력하면 진행 상황을 보여 드립니다.",
      "desk.title": "프런트 데스크", "desk.arrivals": "오늘 체크인", "desk.departures": "오늘 체크아웃",
      "desk.in_house": "투숙 중", "desk.occupancy": "향후 14박 객실 점유율", "desk.feed": "실시간 피드",
      "desk.empty": "없음", "desk.rooms": "객실", "desk.departed": "오늘 체크아웃 완료",
      "desk.no_shows": "노쇼", "desk.cancelled": "취소", "kind.housekeeping": "객실 정비",
      "hk.title": "객실 정비", "hk.dirty": "청소 필요", "hk.clean": "청소 완료", "hk.inspected": "점검 완료",
      "hk.out_of_order": "사용 불가",
      "status.connecting": "연결 중…", "status.live": "실시간", "status.offline": "다시 연결하는 중…",
      "status.refused": "프런트 데스크 직원으로 로그인해야 볼 수 있습니다.",
      "step.requested": "요청됨", "step.convert": "객실 확보 중", "step.pay": "결제",
      "step.confirmed": "확정", "status.pending": "진행 중", "status.confirmed": "확정",
      "status.failed": "실패", "status.cancelling": "취소 중", "status.cancelled": "취소됨",
      "kind.hold": "홀드", "kind.booking": "예약", "kind.inventory": "재고",
    },
  };
  const asked = new URLSearchParams(location.search).get("lang");
  const lang = asked === "ko" || asked === "en" ? asked : (navigator.language || "en").startsWith("ko") ? "ko" : "en";
  function t(key) { return (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key; }
  function apply(root) {
    document.documentElement.lang = lang;
    (root || document).querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  }
  window.ResortI18n = { lang, t, apply };
})();
